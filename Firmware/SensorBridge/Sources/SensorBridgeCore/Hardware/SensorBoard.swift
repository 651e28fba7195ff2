/// What the sensor-bridge logic needs from a board: one SPI bus with the ECG front end on it, one
/// I2C bus with the pulse oximeter, two data-ready/interrupt inputs, a monotonic microsecond clock
/// and a UART transmitter.
///
/// The firmware is generic over this protocol (`SensorBridge<Board>`), never `any SensorBoard`:
/// Embedded Swift has no existentials, and specialization lets the STM32 board's register accesses
/// inline. `STM32F411Board` (Firmware/SensorBridge/Board, built only by build.sh) drives the real
/// peripherals; `SimulatedBoard` emulates the two chips for host tests and `sensor-sim`.
public protocol SensorBoard {
    /// Clocks `bytes` out to the ECG front end with its chip select held low for the whole
    /// transfer, replacing each byte with the one clocked in (SPI is full duplex).
    mutating func spiTransfer(_ bytes: UnsafeMutableBufferPointer<UInt8>)

    /// Writes `bytes` to the I2C device at 7-bit `address` (start, address+W, bytes, stop).
    /// Returns false if the device did not acknowledge or the bus timed out.
    mutating func i2cWrite(address: UInt8, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool

    /// Writes the register pointer `register` to the I2C device at `address`, then reads
    /// `into.count` bytes with a repeated start. Returns false on a NACK or timeout.
    mutating func i2cRead(address: UInt8, register: UInt8, into: UnsafeMutableBufferPointer<UInt8>) -> Bool

    /// The ECG front end's DRDY line is asserted (active low on the pin): a sample is waiting.
    mutating func ecgDataReady() -> Bool

    /// The pulse oximeter's INT line is asserted (active low on the pin).
    mutating func oximeterInterrupt() -> Bool

    /// Microseconds since boot; monotonic, never wraps (64 bits).
    mutating func microseconds() -> UInt64

    /// Busy-waits at least `microseconds` (chip power-up and reset timing).
    mutating func delay(microseconds: UInt32)

    /// Queues `bytes` for transmission without blocking; returns how many were accepted
    /// (possibly 0 when the transmitter is busy). The caller keeps the rest and retries.
    mutating func uartWrite(_ bytes: UnsafeBufferPointer<UInt8>) -> Int

    /// Battery charge 0...100 %, or 255 when the board cannot tell.
    mutating func batteryPercent() -> UInt8
}
