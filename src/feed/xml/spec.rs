//! The two GAR-ENT schemas as data: which records each file type holds and, for every record, its
//! children in schema order with their cardinality and content rules.
//!
//! Transcribed from GAR-ENT.xsd v1.7 (second degree) and GAR-ENT-1D.xsd v1.4 (first degree), copied
//! in `schema/gar-ent/`. The validator (`record.rs`) walks these tables, so a rule lives in one place.

use crate::domain::directory::Degree;

/// Namespace of the second-degree schema (GAR-ENT.xsd).
pub const NS_SECOND_DEGREE: &str = "http://data.education.fr/ns/gar";
/// Namespace of the first-degree schema (GAR-ENT-1D.xsd).
pub const NS_FIRST_DEGREE: &str = "http://data.education.fr/ns/gar/1d";

/// The five files of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum FileType {
    Etab,
    Eleve,
    Enseignant,
    Groupe,
    RespAff,
}

impl FileType {
    pub const ALL: [FileType; 5] =
        [FileType::Etab, FileType::Eleve, FileType::Enseignant, FileType::Groupe, FileType::RespAff];

    /// The root element, e.g. `GAR-ENT-Eleve`.
    pub fn root(self) -> &'static str {
        match self {
            FileType::Etab => "GAR-ENT-Etab",
            FileType::Eleve => "GAR-ENT-Eleve",
            FileType::Enseignant => "GAR-ENT-Enseignant",
            FileType::Groupe => "GAR-ENT-Groupe",
            FileType::RespAff => "GAR-ENT-RespAff",
        }
    }

    /// The type part of file names, e.g. `Eleve` in `Z0_GAR-ENT_Complet_…_2D_Eleve_0000.xml`.
    pub fn name(self) -> &'static str {
        &self.root()["GAR-ENT-".len()..]
    }

    pub fn from_root(root: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.root() == root)
    }
}

/// The namespace a degree's files are written in.
pub fn namespace(degree: Degree) -> &'static str {
    match degree {
        Degree::First => NS_FIRST_DEGREE,
        Degree::Second => NS_SECOND_DEGREE,
    }
}

/// The degree whose schema uses this namespace.
pub fn degree_of_namespace(ns: &str) -> Option<Degree> {
    match ns {
        NS_SECOND_DEGREE => Some(Degree::Second),
        NS_FIRST_DEGREE => Some(Degree::First),
        _ => None,
    }
}

/// What a leaf element may hold. Lengths are the schema's `maxLength`, in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// Any text up to the length.
    Text(usize),
    /// An identifier or code: as `Text`, and not empty (an empty key cannot be referred to).
    Code(usize),
    /// `GARStructureUAIType` (45 characters), which must also have the shape of a UAI.
    Uai,
    /// `xs:date`.
    Date,
    /// A nested sequence.
    Complex(&'static [Child]),
}

/// One element of a sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Child {
    pub name: &'static str,
    pub min: u8,
    /// `maxOccurs="unbounded"`; otherwise at most one.
    pub many: bool,
    pub content: Content,
}

const fn one(name: &'static str, content: Content) -> Child {
    Child { name, min: 1, many: false, content }
}

const fn optional(name: &'static str, content: Content) -> Child {
    Child { name, min: 0, many: false, content }
}

const fn one_or_more(name: &'static str, content: Content) -> Child {
    Child { name, min: 1, many: true, content }
}

const fn any(name: &'static str, content: Content) -> Child {
    Child { name, min: 0, many: true, content }
}

/// A record: a direct child of a file's root element.
#[derive(Debug, PartialEq, Eq)]
pub struct RecordSpec {
    pub name: &'static str,
    pub children: &'static [Child],
}

impl RecordSpec {
    /// Position of a child in the sequence.
    pub fn child_index(&self, name: &str) -> Option<usize> {
        self.children.iter().position(|c| c.name == name)
    }
}

const ID: Content = Content::Code(64);
const CODE: Content = Content::Code(255);
const TEXT_500: Content = Content::Text(500);
const TEXT_255: Content = Content::Text(255);

const PROFILS: &[Child] = &[one("GARStructureUAI", Content::Uai), one("GARPersonProfil", Content::Text(31))];
const DISCIPLINES: &[Child] = &[one("GARStructureUAI", Content::Uai), one_or_more("GAREnsDisciplinePosteCode", CODE)];
const SPECIALITES: &[Child] = &[one("GARStructureUAI", Content::Uai), one_or_more("GAREnsSpecialitePosteCode", CODE)];

/// GARIdentite, then GAREleve's extension (identical in both schemas).
const ELEVE: RecordSpec = RecordSpec {
    name: "GAREleve",
    children: &[
        one("GARPersonIdentifiant", ID),
        one_or_more("GARPersonProfils", Content::Complex(PROFILS)),
        optional("GARPersonIdSecondaire", TEXT_255),
        optional("GARPersonNomPatro", TEXT_500),
        one("GARPersonNom", TEXT_500),
        one("GARPersonPrenom", TEXT_500),
        one_or_more("GARPersonAutresPrenoms", TEXT_500),
        optional("GARPersonCivilite", Content::Text(30)),
        optional("GARPersonStructRattach", Content::Uai),
        one_or_more("GARPersonEtab", Content::Uai),
        optional("GARPersonDateNaissance", Content::Date),
    ],
};

const ENSEIGNANT_2D: RecordSpec = RecordSpec {
    name: "GAREnseignant",
    children: &[
        one("GARPersonIdentifiant", ID),
        one_or_more("GARPersonProfils", Content::Complex(PROFILS)),
        optional("GARPersonIdSecondaire", TEXT_255),
        optional("GARPersonNomPatro", TEXT_500),
        one("GARPersonNom", TEXT_500),
        one("GARPersonPrenom", TEXT_500),
        one_or_more("GARPersonAutresPrenoms", TEXT_500),
        optional("GARPersonCivilite", Content::Text(30)),
        optional("GARPersonStructRattach", Content::Uai),
        one_or_more("GARPersonEtab", Content::Uai),
        optional("GARPersonDateNaissance", Content::Date),
        any("GAREnsDisciplinesPostes", Content::Complex(DISCIPLINES)),
        any("GARPersonMail", TEXT_255),
    ],
};

const ENSEIGNANT_1D: RecordSpec = RecordSpec {
    name: "GAREnseignant",
    children: &[
        one("GARPersonIdentifiant", ID),
        one_or_more("GARPersonProfils", Content::Complex(PROFILS)),
        optional("GARPersonIdSecondaire", TEXT_255),
        optional("GARPersonNomPatro", TEXT_500),
        one("GARPersonNom", TEXT_500),
        one("GARPersonPrenom", TEXT_500),
        one_or_more("GARPersonAutresPrenoms", TEXT_500),
        optional("GARPersonCivilite", Content::Text(30)),
        optional("GARPersonStructRattach", Content::Uai),
        one_or_more("GARPersonEtab", Content::Uai),
        optional("GARPersonDateNaissance", Content::Date),
        any("GAREnsSpecialitesPostes", Content::Complex(SPECIALITES)),
    ],
};

const RESP_AFF: RecordSpec = RecordSpec {
    name: "GARRespAff",
    children: &[
        one("GARPersonIdentifiant", ID),
        one("GARPersonNom", TEXT_500),
        one("GARPersonPrenom", TEXT_500),
        optional("GARPersonCivilite", Content::Text(30)),
        one_or_more("GARPersonMail", TEXT_255),
        one_or_more("GARRespAffEtab", Content::Uai),
    ],
};

const PERSON_MEF: RecordSpec = RecordSpec {
    name: "GARPersonMEF",
    children: &[one("GARStructureUAI", Content::Uai), one("GARPersonIdentifiant", ID), one("GARMEFCode", CODE)],
};

const PERSON_MEFSTAT4: RecordSpec = RecordSpec {
    name: "GARPersonMEFSTAT4",
    children: &[
        one("GARStructureUAI", Content::Uai),
        one("GARPersonIdentifiant", ID),
        one("GARMEFSTAT4Code", Content::Code(4)),
    ],
};

const ELEVE_ENSEIGNEMENT: RecordSpec = RecordSpec {
    name: "GAREleveEnseignement",
    children: &[one("GARStructureUAI", Content::Uai), one("GARPersonIdentifiant", ID), one("GARMatiereCode", CODE)],
};

const ETAB_2D: RecordSpec = RecordSpec {
    name: "GAREtab",
    children: &[
        one("GARStructureUAI", Content::Uai),
        one("GARStructureNomCourant", TEXT_500),
        optional("GAREtablissementStructRattachFctl", TEXT_255),
        optional("GARStructureContrat", Content::Text(45)),
        optional("GARStructureTelephone", Content::Text(20)),
        optional("GARStructureEmail", TEXT_255),
    ],
};

const ETAB_1D: RecordSpec = RecordSpec {
    name: "GAREtab",
    children: &[
        one("GARStructureUAI", Content::Uai),
        one("GARStructureNomCourant", TEXT_500),
        optional("GARStructureContrat", Content::Text(45)),
        optional("GARStructureTelephone", Content::Text(20)),
        optional("GARStructureEmail", TEXT_255),
    ],
};

const MEF: RecordSpec = RecordSpec {
    name: "GARMEF",
    children: &[
        one("GARStructureUAI", Content::Uai),
        one("GARMEFCode", CODE),
        one("GARMEFLibelle", TEXT_255),
        optional("GARMEFRattach", TEXT_255),
        optional("GARMEFSTAT11", TEXT_255),
    ],
};

const MATIERE: RecordSpec = RecordSpec {
    name: "GARMatiere",
    children: &[one("GARStructureUAI", Content::Uai), one("GARMatiereCode", CODE), one("GARMatiereLibelle", TEXT_255)],
};

const GROUPE: RecordSpec = RecordSpec {
    name: "GARGroupe",
    children: &[
        one("GARGroupeCode", CODE),
        one("GARStructureUAI", Content::Uai),
        one("GARGroupeLibelle", TEXT_255),
        one("GARGroupeStatut", Content::Text(31)),
        any("GARGroupeDivAppartenance", CODE),
    ],
};

const PERSON_GROUPE: RecordSpec = RecordSpec {
    name: "GARPersonGroupe",
    children: &[one("GARStructureUAI", Content::Uai), one("GARPersonIdentifiant", ID), one("GARGroupeCode", CODE)],
};

const ENS_CLASSE_MATIERE: RecordSpec = RecordSpec {
    name: "GAREnsClasseMatiere",
    children: &[
        one("GARStructureUAI", Content::Uai),
        one("GARPersonIdentifiant", ID),
        one("GARGroupeCode", CODE),
        one_or_more("GARMatiereCode", CODE),
    ],
};

const ENS_GROUPE_MATIERE: RecordSpec = RecordSpec {
    name: "GAREnsGroupeMatiere",
    children: &[
        one("GARStructureUAI", Content::Uai),
        one("GARPersonIdentifiant", ID),
        one("GARGroupeCode", CODE),
        one_or_more("GARMatiereCode", CODE),
    ],
};

/// The records a file may hold, in the schema's order.
pub fn records(degree: Degree, file: FileType) -> &'static [&'static RecordSpec] {
    match (degree, file) {
        (Degree::Second, FileType::Etab) => &[&ETAB_2D, &MEF, &MATIERE],
        (Degree::Second, FileType::Eleve) => &[&ELEVE, &PERSON_MEF, &ELEVE_ENSEIGNEMENT],
        (Degree::Second, FileType::Enseignant) => &[&ENSEIGNANT_2D, &PERSON_MEF],
        (Degree::Second, FileType::Groupe) => &[&GROUPE, &PERSON_GROUPE, &ENS_GROUPE_MATIERE, &ENS_CLASSE_MATIERE],
        (Degree::First, FileType::Etab) => &[&ETAB_1D],
        (Degree::First, FileType::Eleve) => &[&ELEVE, &PERSON_MEFSTAT4],
        (Degree::First, FileType::Enseignant) => &[&ENSEIGNANT_1D, &PERSON_MEFSTAT4],
        (Degree::First, FileType::Groupe) => &[&GROUPE, &PERSON_GROUPE],
        (_, FileType::RespAff) => &[&RESP_AFF],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_degree_files_hold_fewer_records() {
        let names = |degree, file| records(degree, file).iter().map(|r| r.name).collect::<Vec<_>>();
        assert_eq!(names(Degree::Second, FileType::Etab), ["GAREtab", "GARMEF", "GARMatiere"]);
        assert_eq!(names(Degree::First, FileType::Etab), ["GAREtab"]);
        assert_eq!(names(Degree::First, FileType::Eleve), ["GAREleve", "GARPersonMEFSTAT4"]);
        assert_eq!(names(Degree::First, FileType::Groupe), ["GARGroupe", "GARPersonGroupe"]);
        let teacher_1d = records(Degree::First, FileType::Enseignant)[0];
        assert!(teacher_1d.child_index("GARPersonMail").is_none());
        assert!(teacher_1d.child_index("GAREnsSpecialitesPostes").is_some());
    }

    #[test]
    fn roots_and_namespaces_round_trip() {
        for file in FileType::ALL {
            assert_eq!(FileType::from_root(file.root()), Some(file));
        }
        assert_eq!(FileType::Eleve.name(), "Eleve");
        assert_eq!(degree_of_namespace(namespace(Degree::First)), Some(Degree::First));
        assert_eq!(degree_of_namespace("http://data.education.fr/ns/gar/"), None);
    }
}
