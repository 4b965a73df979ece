//! Permission policy seam. Every route names the permission it needs; the default
//! policy allows everything until the auth issue lands.

/// Decides whether a caller may perform a permission.
pub trait PermissionPolicy: Send + Sync + 'static {}
