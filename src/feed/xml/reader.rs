//! Streaming, hardened reading of one GAR-ENT file, one record at a time.
//!
//! Memory stays bounded whatever the file: events are read into one reused buffer, each record
//! (a direct child of the root) goes into a reused arena, and tokens, records and nesting are
//! capped. DTDs are refused outright, so neither external entities (XXE) nor entity expansion
//! (billion laughs) can happen; only the five predefined entities and character references are
//! understood. Anything that is not well-formed XML of the expected namespace and root is a
//! [`FileError`]: the whole file, and with it the export, is refused.

use std::io::BufRead;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use super::counted::{Counted, TokenTooLarge};
use super::spec::{self, FileType};
use crate::domain::directory::Degree;

/// Deepest nesting accepted; the schemas need 4 (root, record, `GARPersonProfils`, its children).
const MAX_DEPTH: usize = 16;
/// Largest single token (tag, text run, declaration): far above the schemas' 500 characters.
const MAX_TOKEN_BYTES: u64 = 1 << 20;
/// Elements and text one record may hold before it is refused (the rest is read, not stored).
const MAX_RECORD_ELEMENTS: usize = 10_000;
const MAX_RECORD_TEXT: usize = 1 << 20;

/// Why a file cannot be read at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct FileError {
    pub line: u64,
    pub reason: String,
}

/// What the root element says about the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileHeader {
    pub degree: Degree,
    pub file_type: FileType,
    /// The required `Version` attribute, as written.
    pub version: String,
}

/// One element of a record, in document order.
#[derive(Clone, Debug)]
pub(super) struct Node {
    /// Local name, a range of `Arena::names`.
    name: (u32, u32),
    /// In the file's namespace.
    pub in_namespace: bool,
    /// 0 for the record itself.
    pub depth: u8,
    pub line: u64,
    /// Own text (leaf elements only), a range of `Arena::text`.
    text: (u32, u32),
    /// Holds child elements.
    pub has_children: bool,
    /// Holds text other than whitespace (a complex element must not).
    pub has_text: bool,
}

/// The elements of the record being read; reused from record to record.
#[derive(Default)]
pub(super) struct Arena {
    pub nodes: Vec<Node>,
    names: String,
    text: String,
    /// Set when the record went past `MAX_RECORD_ELEMENTS` or `MAX_RECORD_TEXT`.
    pub oversized: bool,
}

impl Arena {
    fn clear(&mut self) {
        self.nodes.clear();
        self.names.clear();
        self.text.clear();
        self.oversized = false;
    }

    pub fn name(&self, node: usize) -> &str {
        let (start, end) = self.nodes[node].name;
        &self.names[start as usize..end as usize]
    }

    /// A leaf's text without surrounding whitespace.
    pub fn text(&self, node: usize) -> &str {
        let (start, end) = self.nodes[node].text;
        self.text[start as usize..end as usize].trim()
    }

    /// Direct children of `parent`, in order.
    pub fn children(&self, parent: usize) -> impl Iterator<Item = usize> + '_ {
        let depth = self.nodes[parent].depth + 1;
        self.nodes[parent + 1..]
            .iter()
            .take_while(move |n| n.depth >= depth)
            .enumerate()
            .filter(move |(_, n)| n.depth == depth)
            .map(move |(i, _)| parent + 1 + i)
    }
}

/// A record as read, before validation: the root's `index`-th child named `name`.
pub struct RawRecord<'a> {
    pub(super) arena: &'a Arena,
    /// 1-based position among the root's children of the same name, as in an XPath.
    pub index: u32,
    pub line: u64,
}

impl RawRecord<'_> {
    pub fn name(&self) -> &str {
        self.arena.name(0)
    }

    pub fn in_namespace(&self) -> bool {
        self.arena.nodes[0].in_namespace
    }

    /// The text of the first child of that name, even when the record is not valid: what a
    /// report names a refused record by.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.arena
            .children(0)
            .find(|&n| self.arena.name(n) == name && !self.arena.nodes[n].has_children)
            .map(|n| self.arena.text(n))
    }
}

/// Reads one file's records in order.
pub struct FeedReader<R: BufRead> {
    reader: NsReader<Counted<R>>,
    buf: Vec<u8>,
    header: FileHeader,
    namespace: &'static str,
    arena: Arena,
    /// Root children seen so far, by name, for record indexes.
    seen: Vec<(String, u32)>,
    done: bool,
}

impl<R: BufRead> FeedReader<R> {
    /// Reads the prolog and the root element.
    pub fn open(input: R) -> Result<Self, FileError> {
        let mut reader = NsReader::from_reader(Counted::new(input, MAX_TOKEN_BYTES));
        let config = reader.config_mut();
        config.expand_empty_elements = false;
        config.check_end_names = true;
        config.check_comments = true;
        let mut buf = Vec::with_capacity(4096);
        loop {
            buf.clear();
            let line = reader.get_ref().line();
            reader.get_mut().mark();
            let (namespace, event) = match reader.read_resolved_event_into(&mut buf) {
                Ok((ResolveResult::Bound(ns), event)) => (ns.into_inner().to_owned(), event),
                Ok((_, event)) => (String::new(), event),
                Err(e) => return Err(xml_error(reader.get_ref(), e)),
            };
            let fail = |reason: String| Err(FileError { line, reason });
            let empty = matches!(event, Event::Empty(_));
            match event {
                Event::Decl(decl) => {
                    if let Some(encoding) = decl.encoding() {
                        let encoding = encoding.map_err(|e| FileError { line, reason: e.to_string() })?;
                        if !encoding.eq_ignore_ascii_case("utf-8") {
                            return fail(format!("encoding `{encoding}` is not supported: GAR-ENT files are UTF-8"));
                        }
                    }
                }
                Event::DocType(_) => return fail("a DTD (<!DOCTYPE …>) is not allowed in a GAR-ENT file".into()),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(text) if text.trim().is_empty() => {}
                Event::Start(root) | Event::Empty(root) => {
                    let Some(degree) = spec::degree_of_namespace(&namespace) else {
                        return fail(format!(
                            "the root element is in namespace `{namespace}`, expected {} or {}",
                            spec::NS_SECOND_DEGREE,
                            spec::NS_FIRST_DEGREE
                        ));
                    };
                    let local = root.local_name().into_inner().to_owned();
                    let Some(file_type) = FileType::from_root(&local) else {
                        return fail(format!(
                            "unknown root element `{local}`: expected GAR-ENT-Etab, -Eleve, -Enseignant, -Groupe or -RespAff"
                        ));
                    };
                    let version = version(&root).map_err(|reason| FileError { line, reason })?;
                    let header = FileHeader { degree, file_type, version };
                    return Ok(Self {
                        reader,
                        buf,
                        header,
                        namespace: spec::namespace(degree),
                        arena: Arena::default(),
                        seen: Vec::new(),
                        done: empty,
                    });
                }
                Event::Eof => return fail("the file is empty: no root element".into()),
                _ => return fail("content before the root element".into()),
            }
        }
    }

    pub fn header(&self) -> &FileHeader {
        &self.header
    }

    /// Bytes of the file read so far.
    pub fn position(&self) -> u64 {
        self.reader.get_ref().consumed()
    }

    /// The next record, or `None` after the root element has ended (and nothing but comments
    /// and whitespace followed it).
    pub fn next_record(&mut self) -> Result<Option<RawRecord<'_>>, FileError> {
        if self.done {
            self.expect_end_of_file()?;
            return Ok(None);
        }
        self.arena.clear();
        // Elements open below the root, as arena indexes (`SKIPPED` past the record size limit).
        let mut open: Vec<usize> = Vec::new();
        loop {
            self.buf.clear();
            let line = self.reader.get_ref().line();
            self.reader.get_mut().mark();
            let namespace = self.namespace;
            let (in_namespace, event) = match self.reader.read_resolved_event_into(&mut self.buf) {
                Ok((resolved, event)) => {
                    (matches!(resolved, ResolveResult::Bound(ns) if ns.into_inner() == namespace), event)
                }
                Err(e) => return Err(xml_error(self.reader.get_ref(), e)),
            };
            let empty = matches!(event, Event::Empty(_));
            match event {
                Event::Start(element) | Event::Empty(element) => {
                    // The root is level 1, a record level 2.
                    if open.len() + 2 > MAX_DEPTH {
                        return Err(FileError {
                            line,
                            reason: format!("elements nest deeper than {MAX_DEPTH} levels"),
                        });
                    }
                    let local = element.local_name().into_inner();
                    if let Some(parent) = open.last().and_then(|&p| self.arena.nodes.get_mut(p)) {
                        parent.has_children = true;
                    }
                    let node = if self.arena.nodes.len() < MAX_RECORD_ELEMENTS {
                        push_node(&mut self.arena, local, in_namespace, open.len(), line)
                    } else {
                        self.arena.oversized = true;
                        SKIPPED
                    };
                    if open.is_empty() {
                        note_record(&mut self.seen, local);
                    }
                    if !empty {
                        open.push(node);
                    } else {
                        close_node(&mut self.arena, node);
                        if open.is_empty() {
                            return Ok(Some(self.record(line)));
                        }
                    }
                }
                Event::End(_) => match open.pop() {
                    Some(node) => {
                        close_node(&mut self.arena, node);
                        if open.is_empty() {
                            let line = self.arena.nodes[0].line;
                            return Ok(Some(self.record(line)));
                        }
                    }
                    None => {
                        // The root closed.
                        self.done = true;
                        self.expect_end_of_file()?;
                        return Ok(None);
                    }
                },
                Event::Text(text) => {
                    add_text(&mut self.arena, open.last().copied(), &text.xml10_content(), line)?;
                }
                Event::CData(data) => add_text(&mut self.arena, open.last().copied(), &data.xml10_content(), line)?,
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => match quick_xml::escape::resolve_predefined_entity(&reference) {
                            Some(text) => text.to_owned(),
                            None => {
                                return Err(FileError {
                                    line,
                                    reason: format!("undeclared entity `&{};`", &*reference),
                                });
                            }
                        },
                        Err(e) => return Err(FileError { line, reason: e.to_string() }),
                    };
                    add_text(&mut self.arena, open.last().copied(), &resolved, line)?;
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::DocType(_) | Event::Decl(_) => {
                    return Err(FileError { line, reason: "a declaration inside the root element".into() });
                }
                Event::Eof => {
                    return Err(FileError {
                        line,
                        reason: format!(
                            "the file ends before `{}` is closed: it is truncated",
                            self.header.file_type.root()
                        ),
                    });
                }
            }
        }
    }

    fn record(&self, line: u64) -> RawRecord<'_> {
        let index = self.seen.iter().find(|(name, _)| name == self.arena.name(0)).map_or(1, |(_, n)| *n);
        RawRecord { arena: &self.arena, index, line }
    }

    fn expect_end_of_file(&mut self) -> Result<(), FileError> {
        loop {
            self.buf.clear();
            let line = self.reader.get_ref().line();
            self.reader.get_mut().mark();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(event) => event,
                Err(e) => return Err(xml_error(self.reader.get_ref(), e)),
            };
            match event {
                Event::Eof => return Ok(()),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(text) if text.trim().is_empty() => {}
                _ => return Err(FileError { line, reason: "content after the root element".into() }),
            }
        }
    }
}

/// Counts the root's children by name, for record indexes.
fn note_record(seen: &mut Vec<(String, u32)>, name: &str) {
    match seen.iter_mut().find(|(seen, _)| seen == name) {
        Some((_, count)) => *count += 1,
        None => seen.push((name.to_owned(), 1)),
    }
}

/// Text directly inside the root must be whitespace; inside a record it belongs to the open element.
fn add_text(arena: &mut Arena, node: Option<usize>, text: &str, line: u64) -> Result<(), FileError> {
    let Some(node) = node else {
        return match text.trim().is_empty() {
            true => Ok(()),
            false => Err(FileError { line, reason: "text directly inside the root element".into() }),
        };
    };
    if let Some(element) = arena.nodes.get_mut(node) {
        element.has_text |= !text.trim().is_empty();
        // Only leaves keep their text, and a leaf's text runs are contiguous.
        if !element.has_children {
            if arena.text.len() + text.len() <= MAX_RECORD_TEXT {
                arena.text.push_str(text);
            } else {
                arena.oversized = true;
            }
        }
    }
    Ok(())
}

/// Stands for an element past `MAX_RECORD_ELEMENTS`, read but not stored.
const SKIPPED: usize = usize::MAX;

fn push_node(arena: &mut Arena, local: &str, in_namespace: bool, depth: usize, line: u64) -> usize {
    let start = arena.names.len() as u32;
    arena.names.push_str(local);
    let text_start = arena.text.len() as u32;
    arena.nodes.push(Node {
        name: (start, arena.names.len() as u32),
        in_namespace,
        depth: depth as u8,
        line,
        text: (text_start, text_start),
        has_children: false,
        has_text: false,
    });
    arena.nodes.len() - 1
}

fn close_node(arena: &mut Arena, node: usize) {
    let end = arena.text.len() as u32;
    if let Some(element) = arena.nodes.get_mut(node).filter(|e| !e.has_children) {
        element.text.1 = end;
    }
}

/// The root's `Version` attribute, required by both schemas.
fn version(root: &BytesStart<'_>) -> Result<String, String> {
    let attribute = root.try_get_attribute("Version").map_err(|e| e.to_string())?;
    let value = attribute.ok_or("the root element has no Version attribute, which the schema requires")?;
    let value = value.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(|e| e.to_string())?;
    if value.trim().is_empty() {
        return Err("the root element's Version attribute is empty".into());
    }
    Ok(value.into_owned())
}

fn xml_error<R: BufRead>(input: &Counted<R>, error: quick_xml::Error) -> FileError {
    let line = input.line();
    let reason = match &error {
        quick_xml::Error::Io(io) if io.get_ref().is_some_and(|e| e.is::<TokenTooLarge>()) => io.to_string(),
        quick_xml::Error::Io(io) => format!("cannot read the file: {io}"),
        other => format!("not well-formed XML: {other}"),
    };
    FileError { line, reason }
}
