fn main() {
    bootschema_build::embed();
}
