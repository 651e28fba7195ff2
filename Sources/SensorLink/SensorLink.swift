// SensorLink: MCU <-> host frame codec (see docs/SENSORLINK.md).
