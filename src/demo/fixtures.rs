//! The demo académie's data files (`fixtures/demo/`), embedded in the binary and checked together.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::DemoError;
use super::settings::Settings;
use crate::domain::assignment::AssignmentTarget;
use crate::domain::catalogue::ResourceImport;
use crate::domain::directory::Degree;
use crate::domain::subscription::{AssignmentType, Subscription, SubscriptionError};
use crate::domain::{Public, SirenIsni, Uai};

/// Embedded so that `sesame demo` works from any folder.
const ACADEMIE: &str = include_str!("../../fixtures/demo/academie.toml");
const NAMES: &str = include_str!("../../fixtures/demo/names.toml");
const RESOURCES: &str = include_str!("../../fixtures/demo/resources.json");
const SUBSCRIPTIONS: &str = include_str!("../../fixtures/demo/subscriptions.json");
const ASSIGNMENTS: &str = include_str!("../../fixtures/demo/assignments.toml");
/// National directory attributes of the demo schools (nature, type, commune…), as `sesame schools import` reads them.
pub const SCHOOLS: &str = include_str!("../../fixtures/demo/schools.csv");

/// subscriptions.json: the distributors and what they sold, with the abonnement field names.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sales {
    #[serde(rename = "distributeurs")]
    pub distributors: Vec<DistributorFixture>,
    #[serde(rename = "abonnements")]
    pub subscriptions: Vec<Subscription>,
}

/// A commercial distributor (idDistributeurCom and name).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributorFixture {
    pub id: SirenIsni,
    #[serde(rename = "nom")]
    pub name: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentsFile {
    #[serde(rename = "assignment")]
    assignments: Vec<AssignmentFixture>,
    #[serde(rename = "school_wide", default)]
    school_wide: Vec<SchoolWideFixture>,
}

/// assignments.toml: a manager gives a subscription to a target in a school.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentFixture {
    /// idAbonnement.
    pub subscription: String,
    /// idDistributeurCom of the subscription.
    pub distributor: SirenIsni,
    pub uai: Uai,
    pub target: AssignmentTarget,
    /// The manager's GARPersonIdentifiant; default: the school's first assignment manager.
    pub by: Option<String>,
}

/// assignments.toml: a manager switches a public of an ETABL subscription on or off for a school.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchoolWideFixture {
    /// idAbonnement.
    pub subscription: String,
    /// idDistributeurCom of the subscription.
    pub distributor: SirenIsni,
    pub uai: Uai,
    pub public: Public,
    pub enabled: bool,
    /// The manager's GARPersonIdentifiant; default: the school's first assignment manager.
    pub by: Option<String>,
}

/// Every demo file, parsed and cross-checked.
#[derive(Clone, Debug)]
pub struct Fixtures {
    pub settings: Settings,
    pub catalogue: ResourceImport,
    pub sales: Sales,
    pub assignments: Vec<AssignmentFixture>,
    pub school_wide: Vec<SchoolWideFixture>,
}

impl Fixtures {
    /// The files built into the binary.
    pub fn embedded() -> Result<Self, DemoError> {
        Self::parse(ACADEMIE, NAMES, RESOURCES, SUBSCRIPTIONS, ASSIGNMENTS)
    }

    /// Parses the five files and checks what one file says about another.
    pub fn parse(
        academie: &str,
        names: &str,
        resources: &str,
        subscriptions: &str,
        assignments: &str,
    ) -> Result<Self, DemoError> {
        let AssignmentsFile { assignments, school_wide } =
            toml::from_str(assignments).map_err(|e| fixture("assignments.toml", e))?;
        let fixtures = Self {
            settings: Settings::parse(academie, names)?,
            catalogue: serde_json::from_str(resources).map_err(|e| fixture("resources.json", e))?,
            sales: serde_json::from_str(subscriptions).map_err(|e| fixture("subscriptions.json", e))?,
            assignments,
            school_wide,
        };
        fixtures.check()?;
        Ok(fixtures)
    }

    fn check(&self) -> Result<(), DemoError> {
        let mut resources = HashSet::new();
        for notice in &self.catalogue.resources {
            notice.validate().map_err(|e| fixture("resources.json", e))?;
            if !resources.insert(notice.id.as_str()) {
                return Err(fixture("resources.json", format!("{} is listed twice", notice.id)));
            }
        }

        let degrees: HashMap<&Uai, Degree> =
            self.settings.establishments.iter().map(|school| (&school.uai, school.degree)).collect();
        let distributors: HashSet<&SirenIsni> = self.sales.distributors.iter().map(|d| &d.id).collect();
        if distributors.len() != self.sales.distributors.len() {
            return Err(fixture("subscriptions.json", "a distributor is listed twice"));
        }
        let mut subscriptions = HashMap::new();
        for sub in &self.sales.subscriptions {
            let broken = |reason: String| fixture("subscriptions.json", format!("{}: {reason}", sub.id));
            let rule_broken = |e: SubscriptionError| fixture("subscriptions.json", format!("{}: {e}", e.rule().code()));
            sub.validate().map_err(rule_broken)?;
            sub.check_first_degree(|uai| degrees.get(uai) == Some(&Degree::First)).map_err(rule_broken)?;
            if !distributors.contains(&sub.distributor_id) {
                return Err(broken(format!("unknown distributor {}", sub.distributor_id)));
            }
            if !resources.contains(sub.resource_id.as_str()) {
                return Err(broken(format!("unknown resource {}", sub.resource_id)));
            }
            if let Some(uai) = sub.establishments.iter().find(|uai| !degrees.contains_key(uai)) {
                return Err(broken(format!("unknown school {uai}")));
            }
            if subscriptions.insert((&sub.distributor_id, sub.id.as_str()), sub).is_some() {
                return Err(broken("listed twice".into()));
            }
        }

        let decisions = self.assignments.iter().map(|a| (&a.distributor, &a.subscription, &a.uai, false));
        let switches = self.school_wide.iter().map(|s| (&s.distributor, &s.subscription, &s.uai, true));
        for (distributor, id, uai, school_wide) in decisions.chain(switches) {
            let Some(sub) = subscriptions.get(&(distributor, id.as_str())) else {
                return Err(fixture("assignments.toml", format!("unknown subscription {id}")));
            };
            if !sub.establishments.contains(uai) {
                return Err(fixture("assignments.toml", format!("{id} does not cover {uai}")));
            }
            if school_wide != (sub.assignment_type == AssignmentType::Establishment) {
                return Err(fixture("assignments.toml", format!("{id}: ETABL is switched per public, INDIV assigned")));
            }
        }
        Ok(())
    }
}

fn fixture(file: &'static str, reason: impl ToString) -> DemoError {
    DemoError::Fixture { file, reason: reason.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_fixtures_are_consistent() {
        let fixtures = Fixtures::embedded().unwrap();
        assert_eq!(fixtures.catalogue.resources.len(), 8);
        assert_eq!(fixtures.sales.distributors.len(), 2);
        assert_eq!(fixtures.sales.subscriptions.len(), 8);
        assert!(!fixtures.assignments.is_empty());
    }

    #[test]
    fn the_demo_subscriptions_are_valid_this_school_year() {
        let start_of_year = crate::domain::subscription::parse_gar_datetime("2026-09-01T08:00:00").unwrap();
        let winter = crate::domain::subscription::parse_gar_datetime("2026-12-15T08:00:00").unwrap();
        for sub in Fixtures::embedded().unwrap().sales.subscriptions {
            assert!(sub.is_valid_at(start_of_year) && sub.is_valid_at(winter), "{}", sub.id);
        }
    }

    #[test]
    fn a_librarian_public_in_an_ecole_is_refused() {
        let mut sales: serde_json::Value = serde_json::from_str(SUBSCRIPTIONS).unwrap();
        let ecoles = sales["abonnements"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|sub| sub["idAbonnement"] == "DEMO-2026-DICO-ECOLES")
            .unwrap();
        ecoles["publicCible"].as_array_mut().unwrap().push("DOCUMENTALISTE".into());
        let error = Fixtures::parse(ACADEMIE, NAMES, RESOURCES, &sales.to_string(), ASSIGNMENTS).unwrap_err();
        assert!(error.to_string().contains("RG11"), "{error}");
    }
}
