//! Multi-document YAML parsing for catalog descriptors (reference section 3.2).
