//! Valid records turned into the directory's domain types (`domain::directory`).
//!
//! Values are checked here when the schema leaves them open: profile codes (case-insensitive),
//! group statuses. A bad profile drops that profile only, as long as the person keeps one.

use super::record::{Invalid, Record, parse_date};
use crate::domain::directory::{
    AssignmentManager, Degree, Establishment, Group, GroupStatus, Mef, Person, PersonGroup, PersonMef, PersonMefStat4,
    PersonSource, PostKind, ProfileAt, PupilSubject, Subject, TeacherGroupSubject, TeacherPosts,
};
use crate::domain::{Profile, Uai};

/// One record of an export, as a domain value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    Establishment(Establishment),
    Mef(Mef),
    Subject(Subject),
    Person(Person),
    PersonMef(PersonMef),
    PersonMefStat4(PersonMefStat4),
    PupilSubject(PupilSubject),
    Group(Group),
    PersonGroup(PersonGroup),
    /// GAREnsClasseMatiere: the group must be a division.
    ClassSubjects(TeacherGroupSubject),
    /// GAREnsGroupeMatiere: the group must not be a division.
    GroupSubjects(TeacherGroupSubject),
    Manager(AssignmentManager),
}

/// A part of a valid record that was dropped, e.g. one unknown profile; the record itself stays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DroppedPart {
    /// The part's element, e.g. `GARPersonProfils`.
    pub element: &'static str,
    pub line: u64,
    pub reason: String,
}

/// Converts a record that passed `record::validate`.
pub fn parse(record: &Record<'_>, degree: Degree, dropped: &mut Vec<DroppedPart>) -> Result<Parsed, Invalid> {
    let uai_of = |name| uai(record.required(name));
    let owned = |name| record.required(name).to_owned();
    let optional = |name| record.text(name).map(str::to_owned);
    Ok(match record.spec.name {
        "GAREtab" => Parsed::Establishment(Establishment {
            uai: uai_of("GARStructureUAI"),
            degree,
            name: owned("GARStructureNomCourant"),
            functional_attachment: optional("GAREtablissementStructRattachFctl"),
            contract: optional("GARStructureContrat"),
            phone: optional("GARStructureTelephone"),
            email: optional("GARStructureEmail"),
        }),
        "GARMEF" => Parsed::Mef(Mef {
            uai: uai_of("GARStructureUAI"),
            code: owned("GARMEFCode"),
            label: owned("GARMEFLibelle"),
            attachment: optional("GARMEFRattach"),
            stat11: optional("GARMEFSTAT11"),
        }),
        "GARMatiere" => Parsed::Subject(Subject {
            uai: uai_of("GARStructureUAI"),
            code: owned("GARMatiereCode"),
            label: owned("GARMatiereLibelle"),
        }),
        "GAREleve" => Parsed::Person(person(record, PersonSource::Pupil, degree, dropped)?),
        "GAREnseignant" => Parsed::Person(person(record, PersonSource::Staff, degree, dropped)?),
        "GARPersonMEF" => Parsed::PersonMef(PersonMef {
            uai: uai_of("GARStructureUAI"),
            gar_id: owned("GARPersonIdentifiant"),
            mef_code: owned("GARMEFCode"),
        }),
        "GARPersonMEFSTAT4" => Parsed::PersonMefStat4(PersonMefStat4 {
            uai: uai_of("GARStructureUAI"),
            gar_id: owned("GARPersonIdentifiant"),
            code: owned("GARMEFSTAT4Code"),
        }),
        "GAREleveEnseignement" => Parsed::PupilSubject(PupilSubject {
            uai: uai_of("GARStructureUAI"),
            gar_id: owned("GARPersonIdentifiant"),
            subject_code: owned("GARMatiereCode"),
        }),
        "GARGroupe" => {
            let status = record.required("GARGroupeStatut");
            let status = match status.to_ascii_uppercase().as_str() {
                "DIVISION" => GroupStatus::Division,
                "GROUPE" => GroupStatus::Group,
                _ => {
                    return Err(Invalid {
                        line: record.line(),
                        reason: format!("GARGroupeStatut `{status}` is neither DIVISION nor GROUPE"),
                    });
                }
            };
            Parsed::Group(Group {
                code: owned("GARGroupeCode"),
                uai: uai_of("GARStructureUAI"),
                label: owned("GARGroupeLibelle"),
                status,
                divisions: record.texts("GARGroupeDivAppartenance").map(str::to_owned).collect(),
            })
        }
        "GARPersonGroupe" => Parsed::PersonGroup(PersonGroup {
            uai: uai_of("GARStructureUAI"),
            gar_id: owned("GARPersonIdentifiant"),
            group_code: owned("GARGroupeCode"),
        }),
        "GAREnsClasseMatiere" => Parsed::ClassSubjects(teaching(record)),
        "GAREnsGroupeMatiere" => Parsed::GroupSubjects(teaching(record)),
        "GARRespAff" => Parsed::Manager(AssignmentManager {
            gar_id: owned("GARPersonIdentifiant"),
            last_name: owned("GARPersonNom"),
            first_name: owned("GARPersonPrenom"),
            civility: optional("GARPersonCivilite"),
            mails: record.texts("GARPersonMail").map(str::to_owned).collect(),
            establishments: record.texts("GARRespAffEtab").map(uai).collect(),
        }),
        other => unreachable!("record {other} has a spec but no conversion"),
    })
}

/// Validation has checked the shape; a failure here would be a spec without `Content::Uai`.
fn uai(text: &str) -> Uai {
    Uai::parse(text).unwrap_or_else(|_| unreachable!("`{text}` passed the UAI check"))
}

fn teaching(record: &Record<'_>) -> TeacherGroupSubject {
    TeacherGroupSubject {
        uai: uai(record.required("GARStructureUAI")),
        gar_id: record.required("GARPersonIdentifiant").to_owned(),
        group_code: record.required("GARGroupeCode").to_owned(),
        subject_codes: record.texts("GARMatiereCode").map(str::to_owned).collect(),
    }
}

fn person(
    record: &Record<'_>,
    source: PersonSource,
    degree: Degree,
    dropped: &mut Vec<DroppedPart>,
) -> Result<Person, Invalid> {
    let mut profiles = Vec::new();
    for element in record.elements("GARPersonProfils") {
        let code = element.required("GARPersonProfil");
        match Profile::parse(code) {
            Ok(profile) => profiles.push(ProfileAt { uai: uai(element.required("GARStructureUAI")), profile }),
            Err(e) => {
                dropped.push(DroppedPart { element: "GARPersonProfils", line: element.line(), reason: e.to_string() })
            }
        }
    }
    if profiles.is_empty() {
        return Err(Invalid {
            line: record.line(),
            reason: "no GARPersonProfils with a profile the GAR accepts".into(),
        });
    }
    let (posts_element, code_element, kind) = match degree {
        Degree::Second => ("GAREnsDisciplinesPostes", "GAREnsDisciplinePosteCode", PostKind::Discipline),
        Degree::First => ("GAREnsSpecialitesPostes", "GAREnsSpecialitePosteCode", PostKind::Speciality),
    };
    Ok(Person {
        source,
        gar_id: record.required("GARPersonIdentifiant").to_owned(),
        profiles,
        secondary_id: record.text("GARPersonIdSecondaire").map(str::to_owned),
        birth_name: record.text("GARPersonNomPatro").map(str::to_owned),
        last_name: record.required("GARPersonNom").to_owned(),
        first_name: record.required("GARPersonPrenom").to_owned(),
        other_first_names: record.texts("GARPersonAutresPrenoms").map(str::to_owned).collect(),
        civility: record.text("GARPersonCivilite").map(str::to_owned),
        attachment_uai: record.text("GARPersonStructRattach").map(uai),
        establishments: record.texts("GARPersonEtab").map(uai).collect(),
        birth_date: record.text("GARPersonDateNaissance").and_then(parse_date),
        teacher_posts: record
            .elements(posts_element)
            .map(|posts| TeacherPosts {
                uai: uai(posts.required("GARStructureUAI")),
                kind,
                codes: posts.texts(code_element).map(str::to_owned).collect(),
            })
            .collect(),
        mails: record.texts("GARPersonMail").map(str::to_owned).collect(),
    })
}
