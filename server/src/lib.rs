//! Greenroom server library.
