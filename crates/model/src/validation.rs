//! Entity validation (reference sections 1.1-1.5).
