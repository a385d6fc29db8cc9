//! Reading request bodies into a small element tree, safely, and writing answers.
//!
//! Bodies are small (one `<abonnement>` or `<filtres>`), so they are read whole into a tree of
//! elements with their text. Anything a distributor's XML library would not send is refused: a
//! DOCTYPE (so no entity can be defined, let alone expanded), an element outside the service's
//! namespace, mixed content, nesting deeper than the documents need.

use actix_web::web;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, Writer};

/// The namespace of every abonnement web service document.
pub const NS: &str = "http://www.atosworldline.com/wsabonnement/v1.0/";

/// `Content-Type` of every XML answer.
pub const CONTENT_TYPE: &str = "application/xml;charset=UTF-8";

/// Largest request body read: a subscription listing thousands of schools fits.
pub const MAX_BODY: usize = 4 << 20;

/// Deepest nesting of the documents the service reads (`filtres/filtreParDate/dateName` is 3).
const MAX_DEPTH: usize = 4;

/// An element of a request body: its local name, its text (trimmed) and its child elements.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

/// Why a body is not a document of the service.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("the body is empty")]
    Empty,
    #[error("the body is larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("the body could not be read: {0}")]
    Read(String),
    #[error("the body is not UTF-8 text")]
    NotUtf8,
    #[error("the body is not well-formed XML: {0}")]
    Malformed(String),
    #[error("a DOCTYPE is not accepted (no DTD, no entity)")]
    Doctype,
    #[error("element <{0}> is not in the namespace {NS}")]
    Namespace(String),
    #[error("the root element is <{found}>, expected <{expected}>")]
    Root { found: String, expected: &'static str },
    #[error("element <{0}> mixes text and elements")]
    Mixed(String),
    #[error("element <{0}> is nested deeper than the service's documents")]
    TooDeep(String),
}

/// Reads a request body whole, refusing more than [`MAX_BODY`] bytes.
pub async fn read_body(payload: web::Payload) -> Result<web::Bytes, XmlError> {
    match payload.to_bytes_limited(MAX_BODY).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(e)) => Err(XmlError::Read(e.to_string())),
        Err(_) => Err(XmlError::TooLarge),
    }
}

/// Parses a document whose root must be `<root xmlns="NS">`.
pub fn parse(body: &[u8], root: &'static str) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(body).map_err(|_| XmlError::NotUtf8)?;
    if text.trim().is_empty() {
        return Err(XmlError::Empty);
    }
    let mut reader = NsReader::from_str(text);
    let malformed = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
    // Open elements; the root ends up alone in `done`.
    let mut open: Vec<Element> = Vec::new();
    let mut done: Option<Element> = None;
    loop {
        let (namespace, event) = reader.read_resolved_event().map_err(|e| malformed(&e))?;
        let in_ns = matches!(namespace, ResolveResult::Bound(ns) if ns.0 == NS);
        match event {
            Event::Start(start) | Event::Empty(start) if done.is_some() => {
                return Err(XmlError::Malformed(format!("element <{}> after the root", start.name().as_ref())));
            }
            Event::Start(ref start) | Event::Empty(ref start) => {
                let name = start.local_name().as_ref().to_owned();
                if !in_ns {
                    return Err(XmlError::Namespace(name));
                }
                if open.is_empty() && name != root {
                    return Err(XmlError::Root { found: name, expected: root });
                }
                if open.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep(name));
                }
                if let Some(parent) = open.last()
                    && !parent.text.trim().is_empty()
                {
                    return Err(XmlError::Mixed(parent.name.clone()));
                }
                let element = Element { name, ..Element::default() };
                if matches!(event, Event::Empty(_)) {
                    close(&mut open, &mut done, element)?;
                } else {
                    open.push(element);
                }
            }
            Event::End(_) => {
                let element = open.pop().ok_or_else(|| XmlError::Malformed("unexpected end tag".into()))?;
                close(&mut open, &mut done, element)?;
            }
            Event::Text(text) => append_text(&mut open, &text.xml10_content())?,
            Event::CData(data) => append_text(&mut open, &data.xml10_content())?,
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().map_err(|e| malformed(&e))? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&reference)
                        .ok_or_else(|| XmlError::Malformed(format!("unknown entity &{};", &*reference)))?
                        .to_owned(),
                };
                append_text(&mut open, &resolved)?;
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !open.is_empty() {
        return Err(XmlError::Malformed(format!("element <{}> is not closed", open[open.len() - 1].name)));
    }
    done.ok_or(XmlError::Empty)
}

fn append_text(open: &mut [Element], text: &str) -> Result<(), XmlError> {
    match open.last_mut() {
        Some(element) if !text.trim().is_empty() && !element.children.is_empty() => {
            Err(XmlError::Mixed(element.name.clone()))
        }
        Some(element) => {
            element.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(XmlError::Malformed("text outside the root element".into())),
    }
}

/// Attaches a finished element to its parent, or makes it the root.
fn close(open: &mut [Element], done: &mut Option<Element>, mut element: Element) -> Result<(), XmlError> {
    element.text = element.text.trim().to_owned();
    match open.last_mut() {
        Some(parent) => {
            if !parent.text.trim().is_empty() {
                return Err(XmlError::Mixed(parent.name.clone()));
            }
            parent.text.clear();
            parent.children.push(element);
        }
        None => *done = Some(element),
    }
    Ok(())
}

/// A document being written: XML declaration, then elements indented by four spaces like the
/// GAR's own answers.
pub fn writer() -> Writer<Vec<u8>> {
    let mut writer = Writer::new_with_indent(Vec::with_capacity(4096), b' ', 4);
    writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), Some("yes"))))
        .expect("writing to memory cannot fail");
    writer
}

/// Writes `<name>text</name>`, escaping only `<`, `>` and `&` (quotes need none in text).
pub fn text_element(writer: &mut Writer<Vec<u8>>, name: &str, text: &str) {
    writer.create_element(name).write_text_content(escaped(text)).expect("writing to memory cannot fail");
}

/// Text content as the answers write it.
pub fn escaped(text: &str) -> BytesText<'_> {
    BytesText::from_escaped(quick_xml::escape::partial_escape(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(inner: &str) -> String {
        format!(r#"<?xml version="1.0" encoding="UTF-8"?><filtres xmlns="{NS}">{inner}</filtres>"#)
    }

    #[test]
    fn reads_a_tree_with_text_and_entities() {
        let body =
            doc("\n  <filtre><filtreNom>uaiEtab</filtreNom><filtreValeur> A&amp;B&#233; </filtreValeur></filtre>\n");
        let root = parse(body.as_bytes(), "filtres").unwrap();
        assert_eq!(root.name, "filtres");
        assert_eq!(root.children[0].children[1].text, "A&Bé");
        assert_eq!(root.children[0].children[0].text, "uaiEtab");
    }

    #[test]
    fn prefixed_namespace_is_the_same_namespace() {
        let body = format!(r#"<w:filtres xmlns:w="{NS}"><w:triPar>idAbonnement</w:triPar></w:filtres>"#);
        assert_eq!(parse(body.as_bytes(), "filtres").unwrap().children[0].text, "idAbonnement");
    }

    #[test]
    fn refuses_what_no_client_sends() {
        let xxe = format!(
            r#"<?xml version="1.0"?><!DOCTYPE filtres [<!ENTITY x SYSTEM "file:///etc/passwd">]><filtres xmlns="{NS}"><triPar>&x;</triPar></filtres>"#
        );
        assert!(matches!(parse(xxe.as_bytes(), "filtres"), Err(XmlError::Doctype)));
        assert!(matches!(parse(b"<filtres><triPar/></filtres>", "filtres"), Err(XmlError::Namespace(_))));
        let other = format!(r#"<abonnement xmlns="{NS}"/>"#);
        assert!(matches!(parse(other.as_bytes(), "filtres"), Err(XmlError::Root { .. })));
        let unbound = doc(r#"<triPar xmlns="">x</triPar>"#);
        assert!(matches!(parse(unbound.as_bytes(), "filtres"), Err(XmlError::Namespace(_))));
        assert!(matches!(parse(doc("<triPar>x</tri>").as_bytes(), "filtres"), Err(XmlError::Malformed(_))));
        assert!(matches!(parse(doc("<triPar>x").as_bytes(), "filtres"), Err(XmlError::Malformed(_))));
        assert!(matches!(parse(doc("&nope;").as_bytes(), "filtres"), Err(XmlError::Malformed(_))));
        assert!(matches!(parse(doc("a<triPar/>").as_bytes(), "filtres"), Err(XmlError::Mixed(_))));
        assert!(matches!(parse(b"\xff\xfe", "filtres"), Err(XmlError::NotUtf8)));
        assert!(matches!(parse(b"  ", "filtres"), Err(XmlError::Empty)));
        let deep = doc("<a><b><c><d>x</d></c></b></a>");
        assert!(matches!(parse(deep.as_bytes(), "filtres"), Err(XmlError::TooDeep(_))));
    }
}
