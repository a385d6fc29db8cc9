//! Checking a record against its schema sequence, then reading its fields.
//!
//! A record that breaks a rule of the schema (unknown or misplaced element, missing or repeated
//! element, text too long, bad date, bad UAI) is refused as a whole with the reason; the file
//! goes on.

use chrono::NaiveDate;

use super::reader::{Arena, RawRecord};
use super::spec::{self, Child, Content, FileType, RecordSpec};
use crate::domain::Uai;
use crate::domain::directory::Degree;

/// Why a record was refused, and the line of the element at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub line: u64,
    pub reason: String,
}

/// A record that follows its schema.
pub struct Record<'a> {
    pub spec: &'static RecordSpec,
    /// 1-based position among the root's children of the same name.
    pub index: u32,
    root: Element<'a>,
}

/// An element of a valid record: the record itself or a nested sequence such as `GARPersonProfils`.
#[derive(Clone, Copy)]
pub struct Element<'a> {
    arena: &'a Arena,
    node: usize,
}

impl<'a> Element<'a> {
    pub fn line(&self) -> u64 {
        self.arena.nodes[self.node].line
    }

    fn named(&self, name: &'a str) -> impl Iterator<Item = usize> + 'a {
        let arena = self.arena;
        arena.children(self.node).filter(move |&n| arena.name(n) == name)
    }

    /// The first child of that name, trimmed.
    pub fn text(&self, name: &'a str) -> Option<&'a str> {
        self.named(name).next().map(|n| self.arena.text(n))
    }

    /// A child the schema requires; empty if absent (validation guarantees it is not).
    pub fn required(&self, name: &'a str) -> &'a str {
        self.text(name).unwrap_or_default()
    }

    /// Every child of that name, in order.
    pub fn texts(&self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let arena = self.arena;
        self.named(name).map(move |n| arena.text(n))
    }

    /// Every nested sequence of that name, in order.
    pub fn elements(&self, name: &'a str) -> impl Iterator<Item = Element<'a>> + 'a {
        let arena = self.arena;
        self.named(name).map(move |node| Element { arena, node })
    }
}

impl<'a> std::ops::Deref for Record<'a> {
    type Target = Element<'a>;

    fn deref(&self) -> &Element<'a> {
        &self.root
    }
}

/// Checks `raw` against the records a file of that degree and type may hold.
pub fn validate<'a>(raw: &RawRecord<'a>, degree: Degree, file: FileType) -> Result<Record<'a>, Invalid> {
    let arena = raw.arena;
    let invalid = |reason: String| Invalid { line: raw.line, reason };
    let name = raw.name();
    let spec = spec::records(degree, file).iter().find(|spec| spec.name == name).filter(|_| raw.in_namespace());
    let Some(spec) = spec else {
        let allowed: Vec<&str> = spec::records(degree, file).iter().map(|s| s.name).collect();
        return Err(invalid(format!(
            "`{name}` is not an element of {} (degree {degree}); expected {}",
            file.root(),
            allowed.join(", ")
        )));
    };
    if arena.oversized {
        return Err(invalid("the record is too large (over 10,000 elements or 1 MiB of text)".into()));
    }
    check_sequence(arena, 0, spec.children)?;
    Ok(Record { spec, index: raw.index, root: Element { arena, node: 0 } })
}

fn check_sequence(arena: &Arena, parent: usize, children: &[Child]) -> Result<(), Invalid> {
    let parent_name = arena.name(parent);
    let line_of = |node: usize| arena.nodes[node].line;
    if arena.nodes[parent].has_text {
        return Err(Invalid {
            line: line_of(parent),
            reason: format!("`{parent_name}` holds text between its elements"),
        });
    }
    let order = || children.iter().map(|c| c.name).collect::<Vec<_>>().join(", ");
    let missing = |child: &Child| {
        let reason = match arena.children(parent).any(|n| arena.name(n) == child.name) {
            true => format!("`{}` is out of order in `{parent_name}`: the schema's order is {}", child.name, order()),
            false => format!("`{parent_name}` lacks `{}`, which the schema requires", child.name),
        };
        Invalid { line: line_of(parent), reason }
    };
    // Position in the sequence and how many elements matched it so far.
    let (mut position, mut count) = (0usize, 0usize);
    for node in arena.children(parent) {
        let name = arena.name(node);
        let invalid = |reason: String| Invalid { line: line_of(node), reason };
        if !arena.nodes[node].in_namespace {
            return Err(invalid(format!("`{name}` is not in the file's namespace")));
        }
        let Some(offset) = children.get(position..).and_then(|rest| rest.iter().position(|c| c.name == name)) else {
            return Err(invalid(if children.iter().any(|c| c.name == name) {
                format!("`{name}` is out of order in `{parent_name}`: the schema's order is {}", order())
            } else {
                format!("unknown element `{name}` in `{parent_name}`")
            }));
        };
        if offset > 0 {
            if count < usize::from(children[position].min) {
                return Err(missing(&children[position]));
            }
            if let Some(skipped) = children[position + 1..position + offset].iter().find(|c| c.min > 0) {
                return Err(missing(skipped));
            }
            (position, count) = (position + offset, 0);
        }
        count += 1;
        let child = &children[position];
        if count > 1 && !child.many {
            return Err(invalid(format!("`{name}` appears more than once in `{parent_name}`")));
        }
        check_content(arena, node, child)?;
    }
    if let Some(child) = children.get(position).filter(|c| count < usize::from(c.min)) {
        return Err(missing(child));
    }
    if let Some(child) = children.get(position + 1..).and_then(|rest| rest.iter().find(|c| c.min > 0)) {
        return Err(missing(child));
    }
    Ok(())
}

fn check_content(arena: &Arena, node: usize, child: &Child) -> Result<(), Invalid> {
    let name = child.name;
    let invalid = |reason: String| Invalid { line: arena.nodes[node].line, reason };
    if let Content::Complex(children) = child.content {
        return check_sequence(arena, node, children);
    }
    if arena.nodes[node].has_children {
        return Err(invalid(format!("`{name}` must hold text, not elements")));
    }
    let text = arena.text(node);
    let too_long = |max: usize| text.len() > max && text.chars().count() > max;
    match child.content {
        Content::Text(max) if too_long(max) => Err(invalid(format!("`{name}` is longer than {max} characters"))),
        Content::Code(max) if too_long(max) => Err(invalid(format!("`{name}` is longer than {max} characters"))),
        Content::Code(_) if text.is_empty() => Err(invalid(format!("`{name}` is empty"))),
        Content::Uai => match Uai::parse(text) {
            Ok(_) => Ok(()),
            Err(e) => Err(invalid(format!("`{name}`: {e}"))),
        },
        Content::Date => match parse_date(text) {
            Some(_) => Ok(()),
            None => Err(invalid(format!("`{name}` is not a date (YYYY-MM-DD): `{text}`"))),
        },
        _ => Ok(()),
    }
}

/// An `xs:date`: `YYYY-MM-DD`, optionally followed by a time zone, which a birth date ignores.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let (date, zone) = text.split_at_checked(10)?;
    let zone_ok = zone.is_empty()
        || zone == "Z"
        || (zone.len() == 6 && (zone.starts_with('+') || zone.starts_with('-')) && zone.as_bytes()[3] == b':');
    if !zone_ok || date.as_bytes().get(4) != Some(&b'-') || date.as_bytes().get(7) != Some(&b'-') {
        return None;
    }
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests;
