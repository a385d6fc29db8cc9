//! Writes XML directly in Exclusive XML Canonicalization form (W3C xml-exc-c14n, without
//! comments), so that the bytes Sesame digests and signs are exactly the bytes it sends.
//!
//! The rules this writer applies (RUST-STACK §1.3): no XML declaration, no whitespace between
//! elements, start/end tag pairs (never `<a/>`), namespace declarations on the element that uses
//! them and sorted by prefix, attributes sorted (all ours are unqualified, so by name), text and
//! attribute values escaped as c14n renders them. Every signed element declares the namespaces it
//! uses itself, so its canonical form does not depend on its ancestors. No `xsi:type`: a QName in
//! content would be invisible to exclusive c14n.
//!
//! Values are checked against the XML 1.0 character range: a control character cannot be
//! represented at all, so it is an error rather than something silently dropped.

/// A character XML 1.0 cannot carry, even escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("U+{codepoint:04X} cannot appear in XML 1.0")]
pub struct InvalidXmlChar {
    pub codepoint: u32,
}

/// An XML fragment being written in canonical form.
#[derive(Default)]
pub struct Canonical {
    out: String,
}

impl Canonical {
    pub fn with_capacity(capacity: usize) -> Self {
        Self { out: String::with_capacity(capacity) }
    }

    /// Opens `<qname …>`. `namespaces` are (prefix, URI) pairs declared here; `attributes` are
    /// (name, value) pairs, unqualified or in the `xml:` namespace. Both are sorted here, whatever
    /// order the caller gives: c14n puts unqualified attributes first, then by namespace URI.
    pub fn start(
        &mut self,
        qname: &str,
        namespaces: &[(&str, &str)],
        attributes: &[(&str, &str)],
    ) -> Result<(), InvalidXmlChar> {
        self.out.push('<');
        self.out.push_str(qname);
        let mut namespaces: Vec<&(&str, &str)> = namespaces.iter().collect();
        namespaces.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (prefix, uri) in namespaces {
            self.out.push_str(if prefix.is_empty() { " xmlns" } else { " xmlns:" });
            self.out.push_str(prefix);
            self.out.push_str("=\"");
            escape_attribute(&mut self.out, uri)?;
            self.out.push('"');
        }
        let mut attributes: Vec<&(&str, &str)> = attributes.iter().collect();
        attributes.sort_unstable_by_key(|(name, _)| (name.contains(':'), *name));
        for (name, value) in attributes {
            debug_assert!(!name.contains(':') || name.starts_with("xml:"), "other namespaces would sort by URI");
            self.out.push(' ');
            self.out.push_str(name);
            self.out.push_str("=\"");
            escape_attribute(&mut self.out, value)?;
            self.out.push('"');
        }
        self.out.push('>');
        Ok(())
    }

    /// Closes `</qname>`.
    pub fn end(&mut self, qname: &str) {
        self.out.push_str("</");
        self.out.push_str(qname);
        self.out.push('>');
    }

    /// Character data.
    pub fn text(&mut self, text: &str) -> Result<(), InvalidXmlChar> {
        escape_text(&mut self.out, text)
    }

    /// `<qname …>text</qname>`.
    pub fn text_element(
        &mut self,
        qname: &str,
        namespaces: &[(&str, &str)],
        attributes: &[(&str, &str)],
        text: &str,
    ) -> Result<(), InvalidXmlChar> {
        self.start(qname, namespaces, attributes)?;
        self.text(text)?;
        self.end(qname);
        Ok(())
    }

    /// `<qname …></qname>`: canonical form never uses empty-element tags.
    pub fn empty(
        &mut self,
        qname: &str,
        namespaces: &[(&str, &str)],
        attributes: &[(&str, &str)],
    ) -> Result<(), InvalidXmlChar> {
        self.start(qname, namespaces, attributes)?;
        self.end(qname);
        Ok(())
    }

    /// Appends a fragment that is already canonical in this position (a built `ds:Signature`).
    pub fn fragment(&mut self, canonical: &str) {
        self.out.push_str(canonical);
    }

    pub fn as_str(&self) -> &str {
        &self.out
    }

    pub fn into_string(self) -> String {
        self.out
    }
}

fn check_char(c: char) -> Result<(), InvalidXmlChar> {
    match c {
        '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}' => Ok(()),
        _ => Err(InvalidXmlChar { codepoint: c as u32 }),
    }
}

/// Text as c14n renders it: `&`, `<`, `>` and CR escaped; everything else literal.
fn escape_text(out: &mut String, text: &str) -> Result<(), InvalidXmlChar> {
    escape(out, text, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '\r' => Some("&#xD;"),
        _ => None,
    })
}

/// Attribute values as c14n renders them: `&`, `<`, `"`, TAB, LF and CR escaped.
fn escape_attribute(out: &mut String, value: &str) -> Result<(), InvalidXmlChar> {
    escape(out, value, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '"' => Some("&quot;"),
        '\t' => Some("&#x9;"),
        '\n' => Some("&#xA;"),
        '\r' => Some("&#xD;"),
        _ => None,
    })
}

fn escape(
    out: &mut String,
    input: &str,
    replacement: impl Fn(char) -> Option<&'static str>,
) -> Result<(), InvalidXmlChar> {
    let mut plain_from = 0;
    for (at, c) in input.char_indices() {
        check_char(c)?;
        if let Some(escaped) = replacement(c) {
            out.push_str(&input[plain_from..at]);
            out.push_str(escaped);
            plain_from = at + c.len_utf8();
        }
    }
    out.push_str(&input[plain_from..]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_namespaces_and_attributes_and_never_self_closes() {
        let mut xml = Canonical::default();
        xml.empty("p:e", &[("q", "urn:q"), ("p", "urn:p")], &[("b", "2"), ("Z", "0"), ("a", "1")]).unwrap();
        assert_eq!(xml.as_str(), r#"<p:e xmlns:p="urn:p" xmlns:q="urn:q" Z="0" a="1" b="2"></p:e>"#);
    }

    #[test]
    fn escapes_like_c14n() {
        let mut xml = Canonical::default();
        xml.text_element("e", &[], &[("v", "a&<>\"'\t\n\r")], "a&<>\"'\t\n\r é").unwrap();
        assert_eq!(xml.as_str(), "<e v=\"a&amp;&lt;>&quot;'&#x9;&#xA;&#xD;\">a&amp;&lt;&gt;\"'\t\n&#xD; é</e>");
    }

    #[test]
    fn refuses_characters_xml_cannot_carry() {
        let mut xml = Canonical::default();
        assert_eq!(xml.text("a\u{1}b"), Err(InvalidXmlChar { codepoint: 1 }));
        assert_eq!(xml.start("e", &[], &[("v", "\u{FFFF}")]), Err(InvalidXmlChar { codepoint: 0xFFFF }));
        assert!(Canonical::default().text("\u{10FFFF}\u{E000}\u{D7FF}").is_ok());
    }
}
