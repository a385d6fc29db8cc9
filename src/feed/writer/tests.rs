use std::io::BufReader;

use super::*;
use crate::feed::xml::{FeedReader, parse, validate};

/// Every record the writer emits reads back, valid, as the same kind of record.
#[test]
fn written_files_read_back() {
    let fixtures = crate::demo::Fixtures::embedded().unwrap();
    let dirs = crate::demo::generate(&fixtures.settings, fixtures.settings.seed);
    for (dir, degree) in [(&dirs[0], Degree::Second), (&dirs[1], Degree::First)] {
        let out = tempfile::tempdir().unwrap();
        let name = ExportName { ent_id: dir.ent_id.clone(), stamp: "20261125_210000".into(), degree };
        let mut writer = ExportWriter::folder(out.path(), name).unwrap().with_max_nodes(500);
        writer.write(&dir.of_degree(degree)).unwrap();
        let written = writer.finish().unwrap();
        assert!(written.xml_files > 5, "split into several files");
        let mut records = 0;
        for path in &written.paths {
            let mut reader = FeedReader::open(BufReader::new(File::open(path).unwrap())).unwrap();
            let header = reader.header().clone();
            assert_eq!(header.degree, degree);
            while let Some(raw) = reader.next_record().unwrap() {
                let record =
                    validate(&raw, degree, header.file_type).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                let mut dropped = Vec::new();
                parse(&record, degree, &mut dropped).unwrap();
                assert!(dropped.is_empty());
                records += 1;
            }
        }
        assert!(records > 300);
    }
}
