//! Named choices (report formats, layouts, label models, methods): each enum lists
//! its values with the name used on the command line and in `dsaudit.toml`, and a
//! line of help. The binary turns the table into its flags' possible values, so the
//! core needs no argument parser.

pub trait Choice: Copy + PartialEq + Send + Sync + 'static {
    /// Every value, its name and its help, in the order `--help` lists them.
    const ALL: &'static [(Self, &'static str, &'static str)];

    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(v, ..)| *v == self)
            .map(|(_, name, _)| *name)
            .expect("every value is in its table")
    }

    /// The value named `s` (ASCII case ignored).
    fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, name, _)| name.eq_ignore_ascii_case(s))
            .map(|(v, ..)| *v)
    }

    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|(_, name, _)| *name).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Choice;

    fn round_trips<T: Choice + std::fmt::Debug>() {
        let names = T::names();
        for (v, name, help) in T::ALL {
            assert_eq!(T::parse(name), Some(*v));
            assert_eq!(T::parse(&name.to_uppercase()), Some(*v));
            assert_eq!(v.name(), *name);
            assert!(!help.is_empty(), "{name} has no help");
            assert_eq!(
                names.iter().filter(|n| *n == name).count(),
                1,
                "{name} twice"
            );
        }
        assert_eq!(T::parse("no-such-value"), None);
    }

    #[test]
    fn the_named_formats_are_the_rows_they_name() {
        use crate::report::Format;
        assert_eq!(Format::TEXT.name(), "text");
        assert_eq!(Format::JSON.name(), "json");
        assert_eq!(Format::HTML.name(), "html");
    }

    #[test]
    fn every_table_round_trips() {
        round_trips::<crate::report::Format>();
        round_trips::<crate::load::LayoutKind>();
        round_trips::<crate::labels::Model>();
        round_trips::<crate::labels::confident::Method>();
    }
}
