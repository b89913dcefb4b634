//! Reading the numbers that real submissions contain: decimal commas, spaces and
//! non-breaking spaces between thousands, percent signs, yes/no answers and "not reported".
//! Anything ambiguous is rejected with a reason, never guessed.

use crate::catalog::UnitKind;
use crate::text::shown;

/// What a value cell said.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Number(f64),
    NotReported,
}

/// Why a cell could not be read; the text is shown to the user after the location.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueError {
    pub rule: &'static str,
    pub message: String,
}

fn err(rule: &'static str, message: impl Into<String>) -> ValueError {
    ValueError {
        rule,
        message: message.into(),
    }
}

const NOT_REPORTED: &[&str] = &["nr", "not reported", "n/a", "na", "n.a.", "ikke rapportert"];

fn is_space(c: char) -> bool {
    c == ' ' || c == '\u{00A0}' || c == '\u{202F}' || c == '\u{2009}'
}

/// Parse a value cell for a data point measured in `kind`.
pub fn parse_value(raw: &str, kind: UnitKind, unit: &str) -> Result<Value, ValueError> {
    let s = raw.trim_matches(|c: char| c.is_whitespace() || is_space(c));
    if s.is_empty() || NOT_REPORTED.contains(&s.to_lowercase().as_str()) {
        return Ok(Value::NotReported);
    }
    let lower = s.to_lowercase();
    if let Some(b) = yes_no(&lower) {
        return if kind == UnitKind::YesNo {
            Ok(Value::Number(if b { 1.0 } else { 0.0 }))
        } else {
            Err(err(
                "yes_no_not_allowed",
                format!(
                    "{} is a yes/no answer, but this KPI is measured in {unit}",
                    shown(s)
                ),
            ))
        };
    }
    let (body, percent) = match s.strip_suffix('%') {
        Some(b) => (
            b.trim_end_matches(|c: char| c.is_whitespace() || is_space(c)),
            true,
        ),
        None => (s, false),
    };
    if percent && kind != UnitKind::Percent {
        return Err(err(
            "percent_sign_not_allowed",
            format!(
                "{} has a percent sign, but this KPI is measured in {unit}",
                shown(s)
            ),
        ));
    }
    let n = match parse_number(body) {
        Ok(n) => n,
        Err(_) if kind == UnitKind::YesNo => {
            return Err(err(
                "not_yes_no",
                format!(
                    "{} is not an answer to a yes/no KPI: write yes or no (or 1 or 0)",
                    shown(s)
                ),
            ))
        }
        Err(e) => return Err(e),
    };
    if kind == UnitKind::YesNo && n != 0.0 && n != 1.0 {
        return Err(err(
            "not_yes_no",
            format!(
                "{} is not an answer to a yes/no KPI: write yes or no (or 1 or 0)",
                shown(s)
            ),
        ));
    }
    Ok(Value::Number(n))
}

/// `yes`/`no` in English and Norwegian.
pub fn yes_no(lower: &str) -> Option<bool> {
    match lower {
        "yes" | "ja" | "y" | "true" => Some(true),
        "no" | "nei" | "n" | "false" => Some(false),
        _ => None,
    }
}

/// A plain number with the separators Norwegian spreadsheets use. Rejects NaN, infinities,
/// numbers too large for a double, and mixed or misplaced separators.
pub fn parse_number(raw: &str) -> Result<f64, ValueError> {
    let s = raw.trim_matches(|c: char| c.is_whitespace() || is_space(c));
    let lower = s.to_lowercase();
    if lower.contains("nan") {
        return Err(err(
            "not_a_number",
            format!(
                "{} is not a number; write NR if the value was not reported",
                shown(s)
            ),
        ));
    }
    if lower.contains("inf") {
        return Err(err(
            "not_a_number",
            format!("{} is not a finite number", shown(s)),
        ));
    }
    if s.starts_with('=') {
        return Err(err(
            "formula",
            format!(
                "{} is a spreadsheet formula; paste the value, not the formula",
                shown(s)
            ),
        ));
    }
    // thousands separators: groups of exactly three digits after a space
    let mut digits = String::with_capacity(s.len());
    let groups: Vec<&str> = s.split(is_space).collect();
    if groups.len() > 1 {
        let ok = groups.iter().skip(1).enumerate().all(|(i, g)| {
            let last = i == groups.len() - 2;
            let int_part = if last {
                g.split([',', '.']).next().unwrap_or("")
            } else {
                g
            };
            int_part.len() == 3 && int_part.chars().all(|c| c.is_ascii_digit())
        }) && !groups[0].is_empty()
            && groups[0].trim_start_matches(['-', '+']).len() <= 3
            && groups[0]
                .trim_start_matches(['-', '+'])
                .chars()
                .all(|c| c.is_ascii_digit());
        if !ok {
            return Err(err(
                "not_a_number",
                format!(
                    "{} is not a number: spaces are allowed only between groups of three digits",
                    shown(s)
                ),
            ));
        }
        for g in groups {
            digits.push_str(g);
        }
    } else {
        digits.push_str(s);
    }
    let commas = digits.matches(',').count();
    let points = digits.matches('.').count();
    if commas > 0 && points > 0 {
        return Err(err(
            "ambiguous_separators",
            format!(
                "{} mixes ',' and '.'; write the number without thousands separators, e.g. 1234,5",
                shown(s)
            ),
        ));
    }
    if commas > 1 || points > 1 {
        return Err(err(
            "ambiguous_separators",
            format!("{} has more than one decimal separator", shown(s)),
        ));
    }
    let normalised = digits.replace(',', ".");
    let valid = !normalised.is_empty()
        && normalised
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && normalised.chars().any(|c| c.is_ascii_digit());
    if !valid {
        return Err(err("not_a_number", format!("{} is not a number", shown(s))));
    }
    match normalised.parse::<f64>() {
        // beyond ±1e100 scores would overflow (and no KPI comes near)
        Ok(v) if v.is_finite() && v.abs() <= crate::stats::MAX_MAGNITUDE => Ok(v),
        Ok(_) => Err(err(
            "number_out_of_range",
            format!("{} is too large to be a KPI value", shown(s)),
        )),
        Err(_) => Err(err("not_a_number", format!("{} is not a number", shown(s)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use UnitKind::{Count, Percent, Ratio, YesNo};

    fn v(s: &str, k: UnitKind) -> Result<Value, ValueError> {
        parse_value(s, k, "the unit")
    }

    #[test]
    fn decimal_comma_and_thousands_spaces() {
        assert_eq!(v("95,01", Percent), Ok(Value::Number(95.01)));
        assert_eq!(v("95 424", Count), Ok(Value::Number(95424.0)));
        assert_eq!(v("95\u{a0}424,5", Count), Ok(Value::Number(95424.5)));
        assert_eq!(v("1 234 567", Count), Ok(Value::Number(1234567.0)));
        assert_eq!(v("-3,5", Ratio), Ok(Value::Number(-3.5)));
    }

    #[test]
    fn not_reported_spellings() {
        for s in ["", "NR", "Not Reported", "N/A", "na", "  "] {
            assert_eq!(v(s, Percent), Ok(Value::NotReported), "{s:?}");
        }
    }

    #[test]
    fn percent_sign_only_for_percentages() {
        assert_eq!(v("87 %", Percent), Ok(Value::Number(87.0)));
        assert_eq!(
            v("87%", Count).unwrap_err().rule,
            "percent_sign_not_allowed"
        );
    }

    #[test]
    fn yes_no_only_for_yes_no_kpis() {
        assert_eq!(v("Yes", YesNo), Ok(Value::Number(1.0)));
        assert_eq!(v("nei", YesNo), Ok(Value::Number(0.0)));
        assert_eq!(v("1", YesNo), Ok(Value::Number(1.0)));
        assert_eq!(v("2", YesNo).unwrap_err().rule, "not_yes_no");
        assert_eq!(v("yes", Percent).unwrap_err().rule, "yes_no_not_allowed");
    }

    #[test]
    fn rejects_what_it_cannot_read_for_sure() {
        assert_eq!(v("NaN", Ratio).unwrap_err().rule, "not_a_number");
        assert_eq!(v("inf", Ratio).unwrap_err().rule, "not_a_number");
        assert_eq!(v("1e309", Ratio).unwrap_err().rule, "number_out_of_range");
        assert_eq!(
            v("1.234,5", Ratio).unwrap_err().rule,
            "ambiguous_separators"
        );
        assert_eq!(v("1,2,3", Ratio).unwrap_err().rule, "ambiguous_separators");
        assert_eq!(v("95 42", Count).unwrap_err().rule, "not_a_number");
        assert_eq!(v("12abc", Count).unwrap_err().rule, "not_a_number");
        assert_eq!(v("=SUM(A1:A3)", Count).unwrap_err().rule, "formula");
    }

    #[test]
    fn shown_escapes_control_characters() {
        assert_eq!(shown("a\nb"), "'a\\nb'");
    }
}
