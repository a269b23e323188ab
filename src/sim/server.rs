//! stub
#[derive(Clone, Debug, Default)]
pub struct Faults;
pub struct RunningSimulator;
pub struct Served;
pub struct SimConfig;
pub struct Simulator;
