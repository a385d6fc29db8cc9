//! Pupils and staff: GAREleve and GAREnseignant (both extend GARIdentite).

use chrono::NaiveDate;

use crate::domain::{Profile, Uai};

/// Which element (and file) a person came in. All staff, not only teachers, are GAREnseignant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PersonSource {
    /// GAREleve (file GAR-ENT-Eleve).
    Pupil,
    /// GAREnseignant (file GAR-ENT-Enseignant).
    Staff,
}

impl PersonSource {
    /// The `persons.source` value.
    pub fn code(self) -> &'static str {
        match self {
            PersonSource::Pupil => "ELEVE",
            PersonSource::Staff => "ENSEIGNANT",
        }
    }
}

/// GARPersonProfils: one profile in one school.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProfileAt {
    /// GARStructureUAI.
    pub uai: Uai,
    /// GARPersonProfil.
    pub profile: Profile,
}

/// Which post codes a teacher's posts carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PostKind {
    /// GAREnsDisciplinesPostes (second degree): discipline de poste, e.g. `L1300`.
    Discipline,
    /// GAREnsSpecialitesPostes (first degree): spécialité de poste.
    Speciality,
}

impl PostKind {
    /// The `teacher_posts.kind` value.
    pub fn code(self) -> &'static str {
        match self {
            PostKind::Discipline => "DISCIPLINE",
            PostKind::Speciality => "SPECIALITE",
        }
    }
}

/// GAREnsDisciplinesPostes / GAREnsSpecialitesPostes: a teacher's post codes in one school.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeacherPosts {
    /// GARStructureUAI.
    pub uai: Uai,
    pub kind: PostKind,
    /// GAREnsDisciplinePosteCode / GAREnsSpecialitePosteCode (1..n), as in the source directory.
    pub codes: Vec<String>,
}

/// GAREleve or GAREnseignant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub source: PersonSource,
    /// GARPersonIdentifiant: the ENT's own id for the person, unique within the ENT project.
    pub gar_id: String,
    /// GARPersonProfils (1..n).
    pub profiles: Vec<ProfileAt>,
    /// GARPersonIdSecondaire ("non fourni dans cette version").
    pub secondary_id: Option<String>,
    /// GARPersonNomPatro: birth surname.
    pub birth_name: Option<String>,
    /// GARPersonNom: usage surname.
    pub last_name: String,
    /// GARPersonPrenom: usual first name.
    pub first_name: String,
    /// GARPersonAutresPrenoms (1..n): all first names, the usual one included.
    pub other_first_names: Vec<String>,
    /// GARPersonCivilite: `M.` or `Mme`.
    pub civility: Option<String>,
    /// GARPersonStructRattach: UAI of administrative attachment.
    pub attachment_uai: Option<Uai>,
    /// GARPersonEtab (1..n): schools attended or worked in.
    pub establishments: Vec<Uai>,
    /// GARPersonDateNaissance, used by the GAR to de-duplicate accounts.
    pub birth_date: Option<NaiveDate>,
    /// GAREnsDisciplinesPostes or GAREnsSpecialitesPostes (staff only).
    pub teacher_posts: Vec<TeacherPosts>,
    /// GARPersonMail (GAREnseignant, second degree only).
    pub mails: Vec<String>,
}

impl Person {
    /// The profiles the person holds in one school.
    pub fn profiles_at<'a>(&'a self, uai: &'a Uai) -> impl Iterator<Item = Profile> + 'a {
        self.profiles.iter().filter(move |p| &p.uai == uai).map(|p| p.profile)
    }
}
