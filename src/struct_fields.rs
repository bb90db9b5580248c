//! The fields a `#[derive(Deserialize)]` struct reads, asked of the derive itself: the
//! settings and the commands' arguments are declared once, as structs, and their lists
//! (unknown-key warnings, the schemas the docs are checked against) come from there.

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// The JSON names of the fields `T` reads (renames applied), in declaration order; empty
/// when `T` is not a plain struct (a map, an enum, a `flatten`ed struct).
pub fn of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields = None;
    let _ = T::deserialize(FieldProbe {
        fields: &mut fields,
    });
    fields.unwrap_or_default()
}

/// A deserializer that records the field list the derive hands to `deserialize_struct`,
/// then stops.
struct FieldProbe<'a> {
    fields: &'a mut Option<&'static [&'static str]>,
}

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.fields = Some(fields);
        Err(de::Error::custom("field probe"))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Example {
        thread_id: Option<String>,
        #[serde(rename = "take")]
        choice: String,
    }

    #[test]
    fn the_derives_own_list() {
        assert_eq!(super::of::<Example>(), ["threadId", "take"]);
        assert!(super::of::<String>().is_empty());
    }
}
