//! `/api/catalog` routes (reference section 2).
