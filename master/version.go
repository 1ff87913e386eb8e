package master

// Version is taskmaster's version, printed by `version`.
const Version = "0.1.0"
