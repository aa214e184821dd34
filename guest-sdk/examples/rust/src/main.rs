//! Entry point: stdin in, the report line out (see the library).

fn main() {
    notary_guest::run(|input| {
        Ok::<_, std::convert::Infallible>(notary_example_fnv::fnv_report(input).into_bytes())
    });
}
