// Re-embed migrations when their SQL changes (diesel_migrations' advice).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
