//! The portal's returns read as GSTN documents them: each module turns one
//! return's archived payload into figures by table and head (paise), and
//! says plainly what it could not read instead of reading it as zero. Pure:
//! no IO, no clock; the reconciliations and queries build on these readings.

pub mod gstr2b;
