//! The académie generator: settings and a seed in, one `Directory` per ENT project out.
//!
//! Deterministic: one seeded RNG per ENT project, no hash-map iteration in what is emitted, and ids
//! numbered per ENT and profile (`z0-ens-0007`), so the same settings always give the same records.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::settings::{EstablishmentSettings, LevelSettings, OptionGroup, OptionSettings, Settings, SharedTeacher};
use crate::domain::directory::{
    AssignmentManager, Degree, Directory, Establishment, Group, GroupStatus, Mef, Person, PersonGroup, PersonMef,
    PersonMefStat4, PersonSource, PostKind, ProfileAt, PupilSubject, Subject, TeacherGroupSubject, TeacherPosts,
};
use crate::domain::{Profile, Uai};

/// Discipline de poste of teacher-librarians (second degree).
const LIBRARIAN_POST: &str = "L0080";

/// Generates every ENT project's directory from `settings` (which `Settings::parse` has validated).
pub fn generate(settings: &Settings, seed: u64) -> Vec<Directory> {
    settings.ents.iter().map(|ent| EntGenerator::new(settings, &ent.id, seed).run()).collect()
}

/// As `generate`, one establishment at a time: `emit` receives a directory per school, so that an
/// académie of a million persons never sits in memory. Person ids keep counting across schools.
/// Teachers shared between schools (`shared_teacher`) are not generated in this mode.
pub fn generate_each_establishment(settings: &Settings, seed: u64, mut emit: impl FnMut(Directory)) {
    for ent in &settings.ents {
        let mut generator = EntGenerator::new(settings, &ent.id, seed);
        for school in settings.establishments_of(&ent.id) {
            let staff = generator.school(school);
            generator.structure(school, &staff);
            generator.managers(school, &staff);
            emit(generator.take());
        }
    }
}

/// Mixes the ENT id into the seed (FNV-1a), so that each ENT project's records do not depend on
/// the others: adding an ENT leaves the existing ones unchanged.
fn ent_seed(seed: u64, ent: &str) -> u64 {
    ent.bytes().fold(seed ^ 0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// Staff of one school, as indices into the directory's persons.
#[derive(Default)]
struct SchoolStaff {
    /// Subject code → its teachers in this school (second degree).
    subject_teachers: BTreeMap<String, Vec<usize>>,
    /// One per division, in division order (first degree).
    class_teachers: Vec<usize>,
    /// Who becomes an assignment manager, best candidate first.
    manager_candidates: Vec<usize>,
}

/// Hands out a subject's teachers in turn, so classes spread over them.
struct Rota<'s> {
    pools: &'s BTreeMap<String, Vec<usize>>,
    turns: HashMap<&'s str, usize>,
}

impl<'s> Rota<'s> {
    fn new(pools: &'s BTreeMap<String, Vec<usize>>) -> Self {
        Self { pools, turns: HashMap::new() }
    }

    fn next(&mut self, subject: &str) -> Option<usize> {
        let (code, pool) = self.pools.get_key_value(subject)?;
        let turn = self.turns.entry(code.as_str()).or_default();
        let teacher = pool.get(turn.checked_rem(pool.len())?).copied();
        *turn += 1;
        teacher
    }
}

struct EntGenerator<'a> {
    settings: &'a Settings,
    ent: &'a str,
    rng: StdRng,
    dir: Directory,
    /// Last number given per profile, for ids like `z0-elv-0001`.
    numbers: HashMap<Profile, u32>,
    mails: HashSet<String>,
    /// (person, group code, UAI) already linked: a teacher of two subjects joins a class once.
    memberships: HashSet<(usize, String, Uai)>,
    /// (person, MEF or MEFSTAT4 code, UAI) already recorded.
    levels_taught: HashSet<(usize, String, Uai)>,
}

impl<'a> EntGenerator<'a> {
    fn new(settings: &'a Settings, ent: &'a str, seed: u64) -> Self {
        Self {
            settings,
            ent,
            rng: StdRng::seed_from_u64(ent_seed(seed, ent)),
            dir: Directory::new(ent),
            numbers: HashMap::new(),
            mails: HashSet::new(),
            memberships: HashSet::new(),
            levels_taught: HashSet::new(),
        }
    }

    fn run(mut self) -> Directory {
        let (settings, ent) = (self.settings, self.ent);
        let schools: Vec<&EstablishmentSettings> = settings.establishments_of(ent).collect();
        let mut staff: Vec<SchoolStaff> = schools.iter().map(|school| self.school(school)).collect();
        for shared in settings.shared_teachers.iter().filter(|t| t.ent == ent) {
            let Some(teacher) = self.shared_teacher(shared, &schools) else { continue };
            for (school, staff) in schools.iter().zip(&mut staff) {
                if shared.establishments.contains(&school.uai) {
                    staff.subject_teachers.entry(shared.subject.clone()).or_default().push(teacher);
                }
            }
        }
        for (school, staff) in schools.iter().zip(&staff) {
            self.structure(school, staff);
            self.managers(school, staff);
        }
        self.dir
    }

    /// The records generated so far; person indexes start again from zero.
    fn take(&mut self) -> Directory {
        self.memberships.clear();
        self.levels_taught.clear();
        std::mem::replace(&mut self.dir, Directory::new(self.ent))
    }

    /// GAREtab, GARMEF, GARMatiere and the school's own staff.
    fn school(&mut self, school: &EstablishmentSettings) -> SchoolStaff {
        let uai = &school.uai;
        self.dir.establishments.push(Establishment {
            uai: uai.clone(),
            degree: school.degree,
            name: school.name.clone(),
            functional_attachment: school.functional_attachment.clone(),
            contract: school.contract.clone(),
            phone: school.phone.clone(),
            email: school.email.clone(),
        });
        if school.degree == Degree::Second {
            self.dir.mefs.extend(school.levels.iter().map(|level| Mef {
                uai: uai.clone(),
                code: level.code.clone(),
                label: level.label.clone(),
                attachment: None,
                stat11: level.stat11.clone(),
            }));
            self.dir.subjects.extend(school.subjects.iter().map(|subject| Subject {
                uai: uai.clone(),
                code: subject.code.clone(),
                label: subject.label.clone(),
            }));
        }

        let mut staff = SchoolStaff::default();
        let direction: Vec<usize> =
            (0..school.staff.direction).map(|_| self.staff_member(school, Profile::Management, &[])).collect();
        let librarians: Vec<usize> = (0..school.staff.librarians)
            .map(|_| self.staff_member(school, Profile::Librarian, &[(PostKind::Discipline, LIBRARIAN_POST)]))
            .collect();
        let mut teachers = Vec::new();
        for subject in &school.subjects {
            for _ in 0..subject.teachers {
                let teacher = self.staff_member(school, Profile::Teacher, &[(PostKind::Discipline, &subject.post)]);
                staff.subject_teachers.entry(subject.code.clone()).or_default().push(teacher);
                teachers.push(teacher);
            }
        }
        if let Some(post) = &school.class_teacher_post {
            for index in 0..divisions(school).len() {
                let teacher = self.staff_member(school, Profile::Teacher, &[(PostKind::Speciality, post)]);
                if index == 0 && school.teaching_director {
                    self.add_profile(teacher, uai, Profile::Management);
                    staff.manager_candidates.push(teacher);
                }
                staff.class_teachers.push(teacher);
                teachers.push(teacher);
            }
        }
        for _ in 0..school.staff.school_life {
            self.staff_member(school, Profile::SchoolLife, &[]);
        }
        for _ in 0..school.staff.other {
            self.staff_member(school, Profile::SchoolStaff, &[]);
        }
        // The head first, then librarians (the usual delegates), deputies, teachers.
        let (head, deputies) = direction.split_at(direction.len().min(1));
        for &candidate in head.iter().chain(&librarians).chain(deputies).chain(&teachers) {
            if !staff.manager_candidates.contains(&candidate) {
                staff.manager_candidates.push(candidate);
            }
        }
        staff
    }

    /// A teacher of the ENT project working in several of its schools.
    fn shared_teacher(&mut self, shared: &SharedTeacher, schools: &[&EstablishmentSettings]) -> Option<usize> {
        let mut teacher = None;
        for school in schools.iter().filter(|s| shared.establishments.contains(&s.uai)) {
            let post = school.subjects.iter().find(|s| s.code == shared.subject).map(|s| s.post.as_str());
            let posts: Vec<(PostKind, &str)> = post.map(|post| (PostKind::Discipline, post)).into_iter().collect();
            match teacher {
                None => teacher = Some(self.staff_member(school, Profile::Teacher, &posts)),
                Some(index) => {
                    self.add_profile(index, &school.uai, Profile::Teacher);
                    if let Some(person) = self.dir.persons.get_mut(index) {
                        person.establishments.push(school.uai.clone());
                        person.teacher_posts.extend(posts.iter().map(|(kind, code)| TeacherPosts {
                            uai: school.uai.clone(),
                            kind: *kind,
                            codes: vec![(*code).to_owned()],
                        }));
                    }
                }
            }
        }
        teacher
    }

    fn add_profile(&mut self, person: usize, uai: &Uai, profile: Profile) {
        if let Some(person) = self.dir.persons.get_mut(person) {
            person.profiles.push(ProfileAt { uai: uai.clone(), profile });
        }
    }

    /// A new GAREnseignant in one school.
    fn staff_member(&mut self, school: &EstablishmentSettings, profile: Profile, posts: &[(PostKind, &str)]) -> usize {
        let mut person = self.person(PersonSource::Staff, profile, &school.uai, None);
        person.teacher_posts = posts
            .iter()
            .map(|(kind, code)| TeacherPosts { uai: school.uai.clone(), kind: *kind, codes: vec![(*code).to_owned()] })
            .collect();
        // GARPersonMail exists in the second-degree schema only.
        if school.degree == Degree::Second {
            person.mails = vec![self.mail(&person.first_name, &person.last_name)];
        }
        self.push(person)
    }

    fn push(&mut self, person: Person) -> usize {
        self.dir.persons.push(person);
        self.dir.persons.len() - 1
    }

    /// A person with drawn names and birth date; pupils pass the year they were born.
    fn person(&mut self, source: PersonSource, profile: Profile, uai: &Uai, birth_year: Option<i32>) -> Person {
        let names = &self.settings.names;
        let staff = source == PersonSource::Staff;
        let female = self.rng.random_bool(0.5);
        let generation = if staff { &names.adults } else { &names.pupils };
        let first_names = if female { &generation.female } else { &generation.male };
        let first_name = first_names.choose(&mut self.rng).cloned().unwrap_or_default();
        let last_name = names.family.names.choose(&mut self.rng).map(|name| name.to_uppercase()).unwrap_or_default();
        let mut other_first_names = vec![first_name.clone()];
        if self.rng.random_bool(0.4)
            && let Some(second) = first_names.choose(&mut self.rng).filter(|second| **second != first_name)
        {
            other_first_names.push(second.clone());
        }
        // Some staff use a married name: their birth name (GARPersonNomPatro) differs.
        let birth_name = if staff && female && self.rng.random_bool(0.25) {
            names.family.names.choose(&mut self.rng).map(|name| name.to_uppercase())
        } else {
            Some(last_name.clone())
        };
        let year = birth_year.unwrap_or_else(|| self.rng.random_range(1962..=1998));
        let birth_date = NaiveDate::from_yo_opt(year, self.rng.random_range(1..=365));
        let number = self.numbers.entry(profile).or_default();
        *number += 1;
        Person {
            source,
            gar_id: format!("{}-{}-{:04}", self.ent.to_lowercase(), profile.suffix(), number),
            profiles: vec![ProfileAt { uai: uai.clone(), profile }],
            secondary_id: None,
            birth_name,
            last_name,
            first_name,
            other_first_names,
            civility: staff.then(|| if female { "Mme" } else { "M." }.to_owned()),
            attachment_uai: Some(uai.clone()),
            establishments: vec![uai.clone()],
            birth_date,
            teacher_posts: Vec::new(),
            mails: Vec::new(),
        }
    }

    /// `prénom.nom@domain` in plain ASCII, numbered when already taken.
    fn mail(&mut self, first_name: &str, last_name: &str) -> String {
        let local = format!("{}.{}", mail_part(first_name), mail_part(last_name));
        let domain = &self.settings.mail_domain;
        let mut candidate = format!("{local}@{domain}");
        let mut n = 1;
        while !self.mails.insert(candidate.clone()) {
            n += 1;
            candidate = format!("{local}{n}@{domain}");
        }
        candidate
    }

    /// Divisions, groups, who teaches what to whom, and the pupils.
    fn structure(&mut self, school: &EstablishmentSettings, staff: &SchoolStaff) {
        let uai = &school.uai;
        let divisions = divisions(school);
        for (code, _) in &divisions {
            self.dir.groups.push(Group {
                code: (*code).to_owned(),
                uai: uai.clone(),
                label: (*code).to_owned(),
                status: GroupStatus::Division,
                divisions: Vec::new(),
            });
        }
        for option in &school.options {
            self.dir.groups.extend(option.groups.iter().map(|group| Group {
                code: group.code.clone(),
                uai: uai.clone(),
                label: group.label.clone(),
                status: GroupStatus::Group,
                divisions: option.divisions.clone(),
            }));
        }

        let mut rota = Rota::new(&staff.subject_teachers);
        for (index, (division, levels)) in divisions.iter().enumerate() {
            match school.degree {
                Degree::Second => self.teach_division(uai, division, levels, &mut rota),
                Degree::First => {
                    if let Some(&teacher) = staff.class_teachers.get(index) {
                        self.join(teacher, division, uai);
                        for level in levels {
                            self.teach_level(teacher, level, uai, Degree::First);
                        }
                    }
                }
            }
        }
        for option in &school.options {
            for group in &option.groups {
                self.teach_group(school, &divisions, option, group, staff, &mut rota);
            }
        }
        for (division, levels) in &divisions {
            for level in levels.iter().cycle().take(school.class_size as usize) {
                self.pupil(school, division, level);
            }
        }
    }

    /// GAREnsClasseMatiere: each subject of a division goes to the next teacher of that subject.
    fn teach_division(&mut self, uai: &Uai, division: &str, levels: &[&LevelSettings], rota: &mut Rota<'_>) {
        let mut by_teacher: Vec<(usize, Vec<String>)> = Vec::new();
        let mut subjects: Vec<&String> = Vec::new();
        for subject in levels.iter().flat_map(|level| &level.subjects) {
            if !subjects.contains(&subject) {
                subjects.push(subject);
            }
        }
        for subject in subjects {
            let Some(teacher) = rota.next(subject) else { continue };
            match by_teacher.iter_mut().find(|(t, _)| *t == teacher) {
                Some((_, codes)) => codes.push(subject.clone()),
                None => by_teacher.push((teacher, vec![subject.clone()])),
            }
        }
        for (teacher, subject_codes) in by_teacher {
            self.join(teacher, division, uai);
            for level in levels {
                self.teach_level(teacher, level, uai, Degree::Second);
            }
            let gar_id = self.gar_id(teacher);
            self.dir.class_subjects.push(TeacherGroupSubject {
                uai: uai.clone(),
                gar_id,
                group_code: division.to_owned(),
                subject_codes,
            });
        }
    }

    /// GAREnsGroupeMatiere (second degree), or the class teacher of the first division (first degree).
    fn teach_group(
        &mut self,
        school: &EstablishmentSettings,
        divisions: &[(&str, Vec<&LevelSettings>)],
        option: &OptionSettings,
        group: &OptionGroup,
        staff: &SchoolStaff,
        rota: &mut Rota<'_>,
    ) {
        let uai = &school.uai;
        let teacher = match &group.subject {
            Some(subject) => rota.next(subject),
            None => option
                .divisions
                .first()
                .and_then(|first| divisions.iter().position(|(code, _)| code == first))
                .and_then(|index| staff.class_teachers.get(index).copied()),
        };
        let Some(teacher) = teacher else { return };
        self.join(teacher, &group.code, uai);
        let levels = divisions.iter().filter(|(code, _)| option.divisions.iter().any(|d| d == code));
        for level in levels.flat_map(|(_, levels)| levels).copied().collect::<Vec<_>>() {
            self.teach_level(teacher, level, uai, school.degree);
        }
        if let Some(subject) = &group.subject {
            let gar_id = self.gar_id(teacher);
            self.dir.group_subjects.push(TeacherGroupSubject {
                uai: uai.clone(),
                gar_id,
                group_code: group.code.clone(),
                subject_codes: vec![subject.clone()],
            });
        }
    }

    /// A GAREleve of one division and level, with the options drawn for them.
    fn pupil(&mut self, school: &EstablishmentSettings, division: &str, level: &LevelSettings) {
        let uai = &school.uai;
        let person = self.person(PersonSource::Pupil, Profile::Pupil, uai, Some(level.birth_year));
        let index = self.push(person);
        self.join(index, division, uai);
        self.teach_level(index, level, uai, school.degree);
        let mut subjects: Vec<String> = level.subjects.clone();
        for option in school.options.iter().filter(|o| o.divisions.iter().any(|d| d == division)) {
            if let Some(group) = self.draw(option) {
                self.join(index, &group.code, uai);
                if let Some(subject) = group.subject.as_ref().filter(|s| !subjects.contains(s)) {
                    subjects.push(subject.clone());
                }
            }
        }
        if school.degree == Degree::Second {
            let gar_id = self.gar_id(index);
            self.dir.pupil_subjects.extend(subjects.into_iter().map(|subject_code| PupilSubject {
                uai: uai.clone(),
                gar_id: gar_id.clone(),
                subject_code,
            }));
        }
    }

    /// One of the option's groups by weight, or none.
    fn draw<'o>(&mut self, option: &'o OptionSettings) -> Option<&'o OptionGroup> {
        let total = option.none_weight + option.groups.iter().map(|g| g.weight).sum::<u32>();
        if total == 0 {
            return None;
        }
        let mut ticket = self.rng.random_range(0..total);
        for group in &option.groups {
            if ticket < group.weight {
                return Some(group);
            }
            ticket -= group.weight;
        }
        None
    }

    /// GARPersonGroupe, once per person and group.
    fn join(&mut self, person: usize, group: &str, uai: &Uai) {
        if self.memberships.insert((person, group.to_owned(), uai.clone())) {
            let gar_id = self.gar_id(person);
            self.dir.person_groups.push(PersonGroup { uai: uai.clone(), gar_id, group_code: group.to_owned() });
        }
    }

    /// GARPersonMEF (second degree) or GARPersonMEFSTAT4 (first degree), once per person and level.
    fn teach_level(&mut self, person: usize, level: &LevelSettings, uai: &Uai, degree: Degree) {
        if !self.levels_taught.insert((person, level.code.clone(), uai.clone())) {
            return;
        }
        let gar_id = self.gar_id(person);
        match degree {
            Degree::Second => {
                self.dir.person_mefs.push(PersonMef { uai: uai.clone(), gar_id, mef_code: level.code.clone() })
            }
            Degree::First => {
                self.dir.person_mefstat4.push(PersonMefStat4 { uai: uai.clone(), gar_id, code: level.code.clone() })
            }
        }
    }

    /// GARRespAff: the first candidates, with their own mail or else the school's.
    fn managers(&mut self, school: &EstablishmentSettings, staff: &SchoolStaff) {
        let school_mail =
            school.email.clone().unwrap_or_else(|| format!("ce.{}@{}", school.uai, self.settings.mail_domain));
        for &index in staff.manager_candidates.iter().take(school.managers as usize) {
            let Some(person) = self.dir.persons.get(index) else { continue };
            let mails = if person.mails.is_empty() { vec![school_mail.clone()] } else { person.mails.clone() };
            self.dir.assignment_managers.push(AssignmentManager {
                gar_id: person.gar_id.clone(),
                last_name: person.last_name.clone(),
                first_name: person.first_name.clone(),
                civility: person.civility.clone(),
                mails,
                establishments: vec![school.uai.clone()],
            });
        }
    }

    fn gar_id(&self, person: usize) -> String {
        self.dir.persons.get(person).map(|p| p.gar_id.clone()).unwrap_or_default()
    }
}

/// A school's divisions in order of first mention, each with the levels it holds.
fn divisions(school: &EstablishmentSettings) -> Vec<(&str, Vec<&LevelSettings>)> {
    let mut divisions: Vec<(&str, Vec<&LevelSettings>)> = Vec::new();
    for level in &school.levels {
        for division in &level.divisions {
            match divisions.iter_mut().find(|(code, _)| code == division) {
                Some((_, levels)) => levels.push(level),
                None => divisions.push((division, vec![level])),
            }
        }
    }
    divisions
}

/// A name as a mail address part: lower-case ASCII, accents dropped, spaces and apostrophes removed.
fn mail_part(name: &str) -> String {
    let mut part = String::with_capacity(name.len());
    for c in name.to_lowercase().chars() {
        match c {
            'a'..='z' | '0'..='9' | '-' => part.push(c),
            'à' | 'â' | 'ä' => part.push('a'),
            'ç' => part.push('c'),
            'é' | 'è' | 'ê' | 'ë' => part.push('e'),
            'î' | 'ï' => part.push('i'),
            'ô' | 'ö' => part.push('o'),
            'ù' | 'û' | 'ü' => part.push('u'),
            'ÿ' => part.push('y'),
            'æ' => part.push_str("ae"),
            'œ' => part.push_str("oe"),
            _ => {}
        }
    }
    part
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_parts_are_plain_ascii() {
        assert_eq!(mail_part("Anaïs"), "anais");
        assert_eq!(mail_part("Le Gall"), "legall");
        assert_eq!(mail_part("N'Diaye"), "ndiaye");
        assert_eq!(mail_part("Jean-Noël"), "jean-noel");
    }

    #[test]
    fn ent_seeds_differ_and_are_stable() {
        assert_ne!(ent_seed(1, "Z0"), ent_seed(1, "Z1"));
        assert_eq!(ent_seed(1, "Z0"), ent_seed(1, "Z0"));
    }
}
