//! Text for people: what the command line, the demo and the benchmark print.
//! [`table`] is the one table renderer (aligned text, JSON, CSV); [`query`]
//! lays out the query rows; the functions here describe a capture run, a
//! verification and an exported bundle. Pure: strings in, strings out.

pub mod query;
pub mod table;
