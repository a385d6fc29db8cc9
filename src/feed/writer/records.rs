//! Each record of a `Directory` as GAR-ENT XML, in the schemas' element order.

use quick_xml::escape::escape;

use crate::domain::directory::{
    AssignmentManager, Degree, Establishment, Group, Mef, Person, PersonGroup, PersonMef, PersonMefStat4, PersonSource,
    PupilSubject, Subject, TeacherGroupSubject,
};

/// One record being written: its XML and how many elements it holds (files split on that count).
#[derive(Default)]
pub struct Element {
    pub xml: String,
    pub nodes: usize,
    depth: usize,
}

impl Element {
    fn open(&mut self, name: &str) {
        self.indent();
        self.xml.push_str("<men:");
        self.xml.push_str(name);
        self.xml.push_str(">\n");
        self.nodes += 1;
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.xml.push_str("</men:");
        self.xml.push_str(name);
        self.xml.push_str(">\n");
    }

    fn text(&mut self, name: &str, value: &str) {
        self.indent();
        self.xml.push_str("<men:");
        self.xml.push_str(name);
        self.xml.push('>');
        self.xml.push_str(&escape(value));
        self.xml.push_str("</men:");
        self.xml.push_str(name);
        self.xml.push_str(">\n");
        self.nodes += 1;
    }

    fn optional(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.text(name, value);
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth + 1 {
            self.xml.push_str("  ");
        }
    }
}

pub fn establishment(e: &Establishment) -> Element {
    let mut x = Element::default();
    x.open("GAREtab");
    x.text("GARStructureUAI", e.uai.as_str());
    x.text("GARStructureNomCourant", &e.name);
    if e.degree == Degree::Second {
        x.optional("GAREtablissementStructRattachFctl", e.functional_attachment.as_deref());
    }
    x.optional("GARStructureContrat", e.contract.as_deref());
    x.optional("GARStructureTelephone", e.phone.as_deref());
    x.optional("GARStructureEmail", e.email.as_deref());
    x.close("GAREtab");
    x
}

pub fn mef(m: &Mef) -> Element {
    let mut x = Element::default();
    x.open("GARMEF");
    x.text("GARStructureUAI", m.uai.as_str());
    x.text("GARMEFCode", &m.code);
    x.text("GARMEFLibelle", &m.label);
    x.optional("GARMEFRattach", m.attachment.as_deref());
    x.optional("GARMEFSTAT11", m.stat11.as_deref());
    x.close("GARMEF");
    x
}

pub fn subject(s: &Subject) -> Element {
    let mut x = Element::default();
    x.open("GARMatiere");
    x.text("GARStructureUAI", s.uai.as_str());
    x.text("GARMatiereCode", &s.code);
    x.text("GARMatiereLibelle", &s.label);
    x.close("GARMatiere");
    x
}

/// GAREleve or GAREnseignant, as the person's source says.
pub fn person(p: &Person, degree: Degree) -> Element {
    let name = match p.source {
        PersonSource::Pupil => "GAREleve",
        PersonSource::Staff => "GAREnseignant",
    };
    let mut x = Element::default();
    x.open(name);
    x.text("GARPersonIdentifiant", &p.gar_id);
    for at in &p.profiles {
        x.open("GARPersonProfils");
        x.text("GARStructureUAI", at.uai.as_str());
        x.text("GARPersonProfil", at.profile.code());
        x.close("GARPersonProfils");
    }
    x.optional("GARPersonIdSecondaire", p.secondary_id.as_deref());
    x.optional("GARPersonNomPatro", p.birth_name.as_deref());
    x.text("GARPersonNom", &p.last_name);
    x.text("GARPersonPrenom", &p.first_name);
    if p.other_first_names.is_empty() {
        // "Tous les prénoms…, à défaut le prénom usuel seul".
        x.text("GARPersonAutresPrenoms", &p.first_name);
    }
    for other in &p.other_first_names {
        x.text("GARPersonAutresPrenoms", other);
    }
    x.optional("GARPersonCivilite", p.civility.as_deref());
    x.optional("GARPersonStructRattach", p.attachment_uai.as_ref().map(|u| u.as_str()));
    for uai in &p.establishments {
        x.text("GARPersonEtab", uai.as_str());
    }
    x.optional("GARPersonDateNaissance", p.birth_date.map(|d| d.to_string()).as_deref());
    if p.source == PersonSource::Staff {
        let (posts, code) = match degree {
            Degree::Second => ("GAREnsDisciplinesPostes", "GAREnsDisciplinePosteCode"),
            Degree::First => ("GAREnsSpecialitesPostes", "GAREnsSpecialitePosteCode"),
        };
        for post in p.teacher_posts.iter().filter(|post| !post.codes.is_empty()) {
            x.open(posts);
            x.text("GARStructureUAI", post.uai.as_str());
            for value in &post.codes {
                x.text(code, value);
            }
            x.close(posts);
        }
        // GARPersonMail exists in the second-degree schema only.
        if degree == Degree::Second {
            for mail in &p.mails {
                x.text("GARPersonMail", mail);
            }
        }
    }
    x.close(name);
    x
}

fn triple(element: &str, uai: &str, gar_id: &str, code_element: &str, code: &str) -> Element {
    let mut x = Element::default();
    x.open(element);
    x.text("GARStructureUAI", uai);
    x.text("GARPersonIdentifiant", gar_id);
    x.text(code_element, code);
    x.close(element);
    x
}

pub fn person_mef(m: &PersonMef) -> Element {
    triple("GARPersonMEF", m.uai.as_str(), &m.gar_id, "GARMEFCode", &m.mef_code)
}

pub fn person_mefstat4(m: &PersonMefStat4) -> Element {
    triple("GARPersonMEFSTAT4", m.uai.as_str(), &m.gar_id, "GARMEFSTAT4Code", &m.code)
}

pub fn pupil_subject(s: &PupilSubject) -> Element {
    triple("GAREleveEnseignement", s.uai.as_str(), &s.gar_id, "GARMatiereCode", &s.subject_code)
}

pub fn person_group(m: &PersonGroup) -> Element {
    triple("GARPersonGroupe", m.uai.as_str(), &m.gar_id, "GARGroupeCode", &m.group_code)
}

pub fn group(g: &Group) -> Element {
    let mut x = Element::default();
    x.open("GARGroupe");
    x.text("GARGroupeCode", &g.code);
    x.text("GARStructureUAI", g.uai.as_str());
    x.text("GARGroupeLibelle", &g.label);
    x.text("GARGroupeStatut", g.status.code());
    for division in &g.divisions {
        x.text("GARGroupeDivAppartenance", division);
    }
    x.close("GARGroupe");
    x
}

/// GAREnsClasseMatiere or GAREnsGroupeMatiere.
pub fn teaching(element: &str, t: &TeacherGroupSubject) -> Element {
    let mut x = Element::default();
    x.open(element);
    x.text("GARStructureUAI", t.uai.as_str());
    x.text("GARPersonIdentifiant", &t.gar_id);
    x.text("GARGroupeCode", &t.group_code);
    for code in &t.subject_codes {
        x.text("GARMatiereCode", code);
    }
    x.close(element);
    x
}

pub fn manager(m: &AssignmentManager) -> Element {
    let mut x = Element::default();
    x.open("GARRespAff");
    x.text("GARPersonIdentifiant", &m.gar_id);
    x.text("GARPersonNom", &m.last_name);
    x.text("GARPersonPrenom", &m.first_name);
    x.optional("GARPersonCivilite", m.civility.as_deref());
    for mail in &m.mails {
        x.text("GARPersonMail", mail);
    }
    for uai in &m.establishments {
        x.text("GARRespAffEtab", uai.as_str());
    }
    x.close("GARRespAff");
    x
}
