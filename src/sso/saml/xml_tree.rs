//! A small, bounded XML tree (quick-xml) for the metadata, requests and signed assertion bytes
//! Sesame reads. Namespaces are resolved; only the five predefined entities and character
//! references exist; a DOCTYPE (hence any DTD or entity declaration) and processing instructions
//! are refused, and comments too unless the caller allows them (metadata files carry comments,
//! protocol messages never need them). Size, depth and element count are capped so that hostile
//! input costs bounded time and memory.

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

/// Caps for one document.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_elements: usize,
    pub allow_comments: bool,
}

impl Limits {
    /// A protocol message: a response, a request, signed assertion bytes.
    pub const fn message(max_bytes: usize) -> Self {
        Self { max_bytes, max_depth: 32, max_elements: 5_000, allow_comments: false }
    }

    /// A metadata document (one entity, or a small aggregate).
    pub const METADATA: Self = Self { max_bytes: 2 << 20, max_depth: 32, max_elements: 50_000, allow_comments: true };
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("the document is larger than {0} bytes")]
    TooLarge(usize),
    #[error("elements are nested deeper than {0} levels")]
    TooDeep(usize),
    #[error("the document has more than {0} elements")]
    TooManyElements(usize),
    #[error("the document has a DOCTYPE; DTDs are refused")]
    Doctype,
    #[error("the document has a processing instruction")]
    ProcessingInstruction,
    #[error("the document has a comment")]
    Comment,
    #[error("the document has no root element")]
    NoRoot,
    #[error("unknown entity &{0};")]
    UnknownEntity(String),
    #[error("malformed XML: {0}")]
    Malformed(String),
}

/// An element with its resolved name, attributes and children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    /// Namespace URI, empty when the element is in no namespace.
    pub namespace: String,
    pub name: String,
    pub attributes: Vec<Attribute>,
    pub children: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// Namespace URI, empty for an unqualified attribute (all SAML attributes are).
    pub namespace: String,
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    pub fn is(&self, namespace: &str, name: &str) -> bool {
        self.namespace == namespace && self.name == name
    }

    /// An unqualified attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|a| a.namespace.is_empty() && a.name == name).map(|a| a.value.as_str())
    }

    /// Child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|node| match node {
            Node::Element(element) => Some(element),
            Node::Text(_) => None,
        })
    }

    /// Child elements with this name.
    pub fn children_named<'a>(&'a self, namespace: &'a str, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |e| e.is(namespace, name))
    }

    /// The first child element with this name.
    pub fn child(&self, namespace: &str, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(namespace, name))
    }

    /// All character data directly inside the element, joined.
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|node| match node {
                Node::Text(text) => Some(text.as_str()),
                Node::Element(_) => None,
            })
            .collect()
    }

    /// Descendant elements with this name, depth first.
    pub fn descendants_named<'a>(&'a self, namespace: &'a str, name: &'a str, out: &mut Vec<&'a Element>) {
        for child in self.elements() {
            if child.is(namespace, name) {
                out.push(child);
            }
            child.descendants_named(namespace, name, out);
        }
    }
}

/// Parses a whole document into its root element.
pub fn parse(xml: &str, limits: Limits) -> Result<Element, XmlError> {
    if xml.len() > limits.max_bytes {
        return Err(XmlError::TooLarge(limits.max_bytes));
    }
    let mut reader = NsReader::from_str(xml);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.check_end_names = true;
    config.check_comments = true;

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| XmlError::Malformed(e.to_string()))?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(XmlError::Malformed("content after the root element".into()));
                }
                elements += 1;
                if elements > limits.max_elements {
                    return Err(XmlError::TooManyElements(limits.max_elements));
                }
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::TooDeep(limits.max_depth));
                }
                stack.push(element(&reader, &start)?);
            }
            Event::End(_) => {
                let done = stack.pop().ok_or_else(|| XmlError::Malformed("unexpected end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(done)),
                    None => root = Some(done),
                }
            }
            Event::Text(text) => push_text(&mut stack, &text.xml10_content())?,
            Event::CData(cdata) => push_text(&mut stack, &cdata.xml10_content())?,
            Event::GeneralRef(reference) => {
                let text = match reference.resolve_char_ref().map_err(|e| XmlError::Malformed(e.to_string()))? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_xml_entity(&reference)
                        .ok_or_else(|| XmlError::UnknownEntity(reference.to_string()))?
                        .to_owned(),
                };
                push_text(&mut stack, &text)?;
            }
            Event::Comment(_) if limits.allow_comments => {}
            Event::Comment(_) => return Err(XmlError::Comment),
            Event::PI(_) => return Err(XmlError::ProcessingInstruction),
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Decl(_) => {}
            Event::Empty(_) => unreachable!("expand_empty_elements is on"),
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed("unclosed element".into()));
    }
    root.ok_or(XmlError::NoRoot)
}

/// Text outside the root may only be whitespace; inside, it is kept, merged with its neighbour.
fn push_text(stack: &mut [Element], text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            if let Some(Node::Text(previous)) = parent.children.last_mut() {
                previous.push_str(text);
            } else if !text.is_empty() {
                parent.children.push(Node::Text(text.to_owned()));
            }
            Ok(())
        }
        None if text.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n')) => Ok(()),
        None => Err(XmlError::Malformed("text outside the root element".into())),
    }
}

fn element(reader: &NsReader<&[u8]>, start: &BytesStart<'_>) -> Result<Element, XmlError> {
    let (namespace, local) = reader.resolver().resolve_element(start.name());
    let namespace = resolved(namespace, start.name().as_ref())?;
    let mut attributes = Vec::new();
    for attribute in start.attributes().with_checks(true) {
        let attribute = attribute.map_err(|e| XmlError::Malformed(e.to_string()))?;
        let key = attribute.key.as_ref();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let (attr_namespace, attr_local) = reader.resolver().resolve_attribute(attribute.key);
        let value = attribute
            .normalized_value_with(quick_xml::XmlVersion::Implicit1_0, 1, quick_xml::escape::resolve_xml_entity)
            .map_err(|e| match e {
                quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(_, name)) => {
                    XmlError::UnknownEntity(name)
                }
                other => XmlError::Malformed(other.to_string()),
            })?;
        attributes.push(Attribute {
            namespace: resolved(attr_namespace, key)?,
            name: attr_local.as_ref().to_owned(),
            value: value.into_owned(),
        });
    }
    Ok(Element { namespace, name: local.as_ref().to_owned(), attributes, children: Vec::new() })
}

fn resolved(result: ResolveResult<'_>, name: &str) -> Result<String, XmlError> {
    match result {
        ResolveResult::Bound(namespace) => Ok(namespace.as_ref().to_owned()),
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Unknown(prefix) => Err(XmlError::Malformed(format!("undeclared prefix {prefix:?} in {name}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: Limits = Limits::message(1 << 16);

    #[test]
    fn resolves_namespaces_and_text() {
        let root = parse(
            "<?xml version=\"1.0\"?>\n<a:r xmlns:a=\"urn:a\" xmlns=\"urn:d\" x=\"1&amp;&#x41;\"><c>t&lt;<![CDATA[<u>]]>&#233;</c><a:e/></a:r>",
            MESSAGE,
        )
        .unwrap();
        assert!(root.is("urn:a", "r"));
        assert_eq!(root.attr("x"), Some("1&A"));
        assert_eq!(root.child("urn:d", "c").unwrap().text(), "t<<u>é");
        assert!(root.child("urn:a", "e").is_some());
    }

    #[test]
    fn attribute_values_are_normalized_and_line_ends_too() {
        let root = parse("<r v=\"a\tb\nc&#xA;d\">x\r\ny\rz</r>", MESSAGE).unwrap();
        assert_eq!(root.attr("v"), Some("a b c\nd"));
        assert_eq!(root.text(), "x\ny\nz");
    }

    #[test]
    fn refuses_what_saml_never_needs() {
        assert_eq!(parse("<!DOCTYPE r [<!ENTITY x \"y\">]><r>&x;</r>", MESSAGE), Err(XmlError::Doctype));
        assert_eq!(parse("<r>&x;</r>", MESSAGE), Err(XmlError::UnknownEntity("x".into())));
        assert_eq!(parse("<r><?pi x?></r>", MESSAGE), Err(XmlError::ProcessingInstruction));
        assert_eq!(parse("<r><!-- c --></r>", MESSAGE), Err(XmlError::Comment));
        assert!(parse("<r><!-- c --></r>", Limits::METADATA).is_ok());
        assert!(matches!(parse("<p:r/>", MESSAGE), Err(XmlError::Malformed(_))));
        assert!(matches!(parse("<r a=\"1\" a=\"2\"/>", MESSAGE), Err(XmlError::Malformed(_))));
        assert!(matches!(parse("<r></s>", MESSAGE), Err(XmlError::Malformed(_))));
        assert!(matches!(parse("<r/><r/>", MESSAGE), Err(XmlError::Malformed(_))));
        assert!(matches!(parse("<r>", MESSAGE), Err(XmlError::Malformed(_))));
        assert_eq!(parse("  ", MESSAGE), Err(XmlError::NoRoot));
    }

    #[test]
    fn caps_size_depth_and_count() {
        assert_eq!(parse(&"x".repeat(100), Limits::message(10)), Err(XmlError::TooLarge(10)));
        let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
        assert_eq!(parse(&deep, MESSAGE), Err(XmlError::TooDeep(32)));
        let wide = format!("<r>{}</r>", "<a/>".repeat(6000));
        assert_eq!(parse(&wide, MESSAGE), Err(XmlError::TooManyElements(5000)));
    }
}
