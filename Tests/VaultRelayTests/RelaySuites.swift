import Testing

/// Every relay suite, one test at a time: each starts its own PostgreSQL cluster, relay nodes
/// and `vrm` processes, and run side by side on two cores they starve the other suites'
/// in-process servers of CPU.
@Suite(.serialized) enum RelaySuites {}
