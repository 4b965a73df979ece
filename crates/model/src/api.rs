//! Wire types of the catalog REST API shared by the server and the frontend.
