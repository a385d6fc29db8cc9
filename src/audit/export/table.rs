//! CSV files a spreadsheet opens as they are: UTF-8 with a byte-order mark (so accented letters
//! show right in Excel), `;` between fields (the separator French-locale spreadsheets expect),
//! CRLF line ends, quoting where a field needs it.

/// A CSV table being written in memory.
pub struct Table {
    writer: csv::Writer<Vec<u8>>,
}

/// UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

impl Table {
    pub fn new(headers: &[&str]) -> Self {
        let mut writer =
            csv::WriterBuilder::new().delimiter(b';').terminator(csv::Terminator::CRLF).from_writer(BOM.to_vec());
        writer.write_record(headers).expect("writing to memory cannot fail");
        Self { writer }
    }

    pub fn row<I, S>(&mut self, fields: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        self.writer.write_record(fields).expect("writing to memory cannot fail");
    }

    pub fn finish(self) -> Vec<u8> {
        self.writer.into_inner().expect("writing to memory cannot fail")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreadsheet_friendly() {
        let mut table = Table::new(&["Nom / Name", "Valeur / Value"]);
        table.row(["Élève", "a;b \"c\""]);
        let bytes = table.finish();
        assert!(bytes.starts_with(BOM));
        assert_eq!(
            std::str::from_utf8(&bytes[3..]).unwrap(),
            "Nom / Name;Valeur / Value\r\nÉlève;\"a;b \"\"c\"\"\"\r\n"
        );
    }
}
