use super::*;

#[test]
fn sniffs_semicolons_and_ignores_quoted_commas() {
    assert_eq!(sniff_delimiter("city;year;kpi;value"), Some(b';'));
    assert_eq!(sniff_delimiter("\"a,b\";c;d"), Some(b';'));
    assert_eq!(sniff_delimiter("city|year"), None);
}

#[test]
fn json_element_offsets_skip_strings() {
    let t = "[\n {\"a\": \"x,]\"},\n {\"a\": 2}\n]";
    let o = element_offsets(t);
    assert_eq!(o.len(), 2);
    assert_eq!(&t[o[1]..o[1] + 1], "{");
}

#[test]
fn column_letters() {
    assert_eq!(column_letter(0), "A");
    assert_eq!(column_letter(25), "Z");
    assert_eq!(column_letter(26), "AA");
}
