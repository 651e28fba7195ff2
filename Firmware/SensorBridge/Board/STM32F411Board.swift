// The STM32F411CEU6 "Black Pill" board: register-level drivers for RCC, GPIO, TIM2, SPI1, I2C1 and
// USART1, with addresses and bit positions from the STM32F411 reference manual (RM0383).
// Built only by Firmware/SensorBridge/build.sh (Embedded Swift, armv7em). NOT RUN ON HARDWARE:
// nothing here could be executed in this repository's checks (no board, and QEMU has no
// STM32F411 machine); it links, and its register values are reviewed against RM0383, no more.
//
// Wiring:  ADS1292R  SPI1: PA5 SCK, PA6 MISO, PA7 MOSI (AF5), PA4 /CS (GPIO), PB0 /DRDY (input)
//          MAX30102  I2C1: PB6 SCL, PB7 SDA (AF4, open drain, 4.7 kΩ pull-ups), PB8 /INT (input)
//          host      USART1: PA9 TX, PA10 RX (AF7), 921600 baud 8N1
// Clocks:  HSE 25 MHz crystal → PLL (M 25, N 192, P 2, Q 4) → SYSCLK 96 MHz; APB1 48 MHz (TIM2
//          runs at 96 MHz), APB2 96 MHz. 96 rather than 100 MHz: USART1 at 921600 baud then needs
//          BRR = 104, 923 077 baud (+0.16 %), and USB would get its 48 MHz.
import SensorBridgeCore
import _Volatile

@inline(__always) private func reg(_ address: UInt) -> VolatileMappedRegister<UInt32> {
    VolatileMappedRegister<UInt32>(unsafeBitPattern: address)
}

@inline(__always) private func setBits(_ address: UInt, _ bits: UInt32) {
    let r = reg(address)
    r.store(r.load() | bits)
}

@inline(__always) private func modify(_ address: UInt, clear: UInt32, set: UInt32) {
    let r = reg(address)
    r.store(r.load() & ~clear | set)
}

// RM0383 §2.3 memory map and the register maps of each peripheral chapter.
private enum RCC {
    static let base: UInt = 0x4002_3800
    static let cr = base + 0x00, pllcfgr = base + 0x04, cfgr = base + 0x08
    static let ahb1enr = base + 0x30, apb1enr = base + 0x40, apb2enr = base + 0x44
}
private enum FlashInterface { static let acr: UInt = 0x4002_3C00 }
private enum GPIO {
    static let a: UInt = 0x4002_0000, b: UInt = 0x4002_0400
    static let moder: UInt = 0x00, otyper: UInt = 0x04, ospeedr: UInt = 0x08, pupdr: UInt = 0x0C
    static let idr: UInt = 0x10, bsrr: UInt = 0x18, afrl: UInt = 0x20, afrh: UInt = 0x24
}
private enum TIM2 {
    static let base: UInt = 0x4000_0000
    static let cr1 = base + 0x00, egr = base + 0x14, cnt = base + 0x24, psc = base + 0x28, arr = base + 0x2C
}
private enum SPI1 {
    static let base: UInt = 0x4001_3000
    static let cr1 = base + 0x00, sr = base + 0x08, dr = base + 0x0C
}
private enum I2C1 {
    static let base: UInt = 0x4000_5400
    static let cr1 = base + 0x00, cr2 = base + 0x04, dr = base + 0x10, sr1 = base + 0x14, sr2 = base + 0x18
    static let ccr = base + 0x1C, trise = base + 0x20
    // SR1 bits
    static let sb: UInt32 = 1 << 0, addr: UInt32 = 1 << 1, btf: UInt32 = 1 << 2, rxne: UInt32 = 1 << 6
    static let txe: UInt32 = 1 << 7, af: UInt32 = 1 << 10
    // CR1 bits
    static let pe: UInt32 = 1 << 0, start: UInt32 = 1 << 8, stop: UInt32 = 1 << 9, ack: UInt32 = 1 << 10
}
private enum USART1 {
    static let base: UInt = 0x4001_1000
    static let sr = base + 0x00, dr = base + 0x04, brr = base + 0x08, cr1 = base + 0x0C
}

/// Configures a GPIO pin: mode (0 input, 1 output, 2 alternate), alternate function, pull-up,
/// open drain, high speed.
private func pin(_ port: UInt, _ n: UInt32, mode: UInt32, af: UInt32 = 0, pullUp: Bool = false, openDrain: Bool = false) {
    modify(port + GPIO.moder, clear: 3 << (2 * n), set: mode << (2 * n))
    modify(port + GPIO.ospeedr, clear: 3 << (2 * n), set: 2 << (2 * n))
    modify(port + GPIO.pupdr, clear: 3 << (2 * n), set: (pullUp ? 1 : 0) << (2 * n))
    modify(port + GPIO.otyper, clear: 1 << n, set: (openDrain ? 1 : 0) << n)
    if mode == 2 {
        let afr = n < 8 ? port + GPIO.afrl : port + GPIO.afrh
        let shift = 4 * (n % 8)
        modify(afr, clear: 0xF << shift, set: af << shift)
    }
}

/// The sensor bridge on an STM32F411 Black Pill.
public struct STM32F411Board: SensorBoard {
    private var timerHigh: UInt64 = 0
    private var timerLast: UInt32 = 0

    /// Nothing is touched until `initialize()`.
    public init() {}

    /// Clocks, pins and peripherals, in that order.
    public mutating func initialize() {
        // HSE on, then the PLL from it: 25 MHz / 25 × 192 / 2 = 96 MHz, /4 = 48 MHz for USB.
        setBits(RCC.cr, 1 << 16)                                   // HSEON
        while reg(RCC.cr).load() & (1 << 17) == 0 {}               // HSERDY
        reg(RCC.pllcfgr).store(25 | 192 << 6 | 0 << 16 | 1 << 22 | 4 << 24)  // M, N, P=/2, HSE, Q
        setBits(RCC.cr, 1 << 24)                                   // PLLON
        while reg(RCC.cr).load() & (1 << 25) == 0 {}               // PLLRDY
        // 3 wait states at 96 MHz and 3.3 V (RM0383 table 5), prefetch and caches on.
        reg(FlashInterface.acr).store(3 | 1 << 8 | 1 << 9 | 1 << 10)
        // AHB /1, APB1 /2 (PPRE1 = 100), APB2 /1, system clock = PLL (SW = 10).
        modify(RCC.cfgr, clear: 0xFCF3, set: 4 << 10 | 2)
        while reg(RCC.cfgr).load() & (3 << 2) != 2 << 2 {}         // SWS = PLL

        setBits(RCC.ahb1enr, 1 << 0 | 1 << 1)                      // GPIOA, GPIOB
        setBits(RCC.apb1enr, 1 << 0 | 1 << 21)                     // TIM2, I2C1
        setBits(RCC.apb2enr, 1 << 4 | 1 << 12)                     // USART1, SPI1

        // TIM2: free-running 32-bit microsecond counter (96 MHz timer clock / 96).
        reg(TIM2.psc).store(95)
        reg(TIM2.arr).store(0xFFFF_FFFF)
        reg(TIM2.egr).store(1)                                     // UG: load the prescaler
        reg(TIM2.cr1).store(1)                                     // CEN

        // SPI1 to the ADS1292R: mode 1 (CPOL 0, CPHA 1), master, 96 MHz / 64 = 1.5 MHz,
        // software slave management with SSI high, MSB first, 8-bit frames.
        pin(GPIO.a, 4, mode: 1)
        reg(GPIO.a + GPIO.bsrr).store(1 << 4)                      // /CS high
        pin(GPIO.a, 5, mode: 2, af: 5)
        pin(GPIO.a, 6, mode: 2, af: 5)
        pin(GPIO.a, 7, mode: 2, af: 5)
        reg(SPI1.cr1).store(1 << 0 | 1 << 2 | 5 << 3 | 1 << 8 | 1 << 9)
        setBits(SPI1.cr1, 1 << 6)                                  // SPE
        pin(GPIO.b, 0, mode: 0, pullUp: true)                      // /DRDY

        // I2C1 to the MAX30102: fast mode 400 kHz from APB1 = 48 MHz.
        pin(GPIO.b, 6, mode: 2, af: 4, pullUp: true, openDrain: true)
        pin(GPIO.b, 7, mode: 2, af: 4, pullUp: true, openDrain: true)
        reg(I2C1.cr1).store(1 << 15)                               // SWRST: clear a stuck bus state
        reg(I2C1.cr1).store(0)
        reg(I2C1.cr2).store(48)                                    // FREQ = 48 MHz
        reg(I2C1.ccr).store(1 << 15 | 40)                          // F/S, DUTY 0: 48 MHz / (3 × 40) = 400 kHz
        reg(I2C1.trise).store(48 * 300 / 1000 + 1)                 // 300 ns rise time in fast mode
        reg(I2C1.cr1).store(I2C1.pe)
        pin(GPIO.b, 8, mode: 0, pullUp: true)                      // /INT

        // USART1: 921600 baud from 96 MHz with 16× oversampling: BRR = 96e6 / 921600 ≈ 104.
        pin(GPIO.a, 9, mode: 2, af: 7)
        pin(GPIO.a, 10, mode: 2, af: 7, pullUp: true)
        reg(USART1.brr).store(104)
        reg(USART1.cr1).store(1 << 13 | 1 << 3)                    // UE, TE
    }

    // MARK: - SensorBoard

    public mutating func microseconds() -> UInt64 {
        // Extends TIM2's 32-bit count; the main loop reads it far more often than every 71 min.
        let now = reg(TIM2.cnt).load()
        if now < timerLast { timerHigh &+= 1 << 32 }
        timerLast = now
        return timerHigh | UInt64(now)
    }

    public mutating func delay(microseconds: UInt32) {
        let end = self.microseconds() &+ UInt64(microseconds)
        while self.microseconds() < end {}
    }

    public mutating func spiTransfer(_ bytes: UnsafeMutableBufferPointer<UInt8>) {
        reg(GPIO.a + GPIO.bsrr).store(1 << (4 + 16))               // /CS low
        for i in bytes.indices {
            while reg(SPI1.sr).load() & (1 << 1) == 0 {}           // TXE
            reg(SPI1.dr).store(UInt32(bytes[i]))
            while reg(SPI1.sr).load() & (1 << 0) == 0 {}           // RXNE
            bytes[i] = UInt8(truncatingIfNeeded: reg(SPI1.dr).load())
            // The ADS1292R decodes multi-byte opcodes 4 tCLK (≈ 8 µs at 512 kHz) apart.
            delay(microseconds: 8)
        }
        while reg(SPI1.sr).load() & (1 << 7) != 0 {}               // BSY
        reg(GPIO.a + GPIO.bsrr).store(1 << 4)                      // /CS high
    }

    public mutating func ecgDataReady() -> Bool {
        reg(GPIO.b + GPIO.idr).load() & (1 << 0) == 0
    }

    public mutating func oximeterInterrupt() -> Bool {
        reg(GPIO.b + GPIO.idr).load() & (1 << 8) == 0
    }

    public mutating func uartWrite(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        // Non-blocking: as many bytes as the transmit data register takes now (TXE).
        var n = 0
        while n < bytes.count && reg(USART1.sr).load() & (1 << 7) != 0 {
            reg(USART1.dr).store(UInt32(bytes[n]))
            n += 1
        }
        return n
    }

    public mutating func batteryPercent() -> UInt8 { 255 }  // no battery gauge wired on this board

    public mutating func i2cWrite(address: UInt8, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard i2cStart(address << 1) else { return false }
        for b in bytes {
            guard wait(I2C1.txe) else { return i2cStop() }
            reg(I2C1.dr).store(UInt32(b))
        }
        guard wait(I2C1.btf) else { return i2cStop() }
        _ = i2cStop()
        return true
    }

    public mutating func i2cRead(address: UInt8, register: UInt8, into: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        guard !into.isEmpty, i2cStart(address << 1) else { return false }
        guard wait(I2C1.txe) else { return i2cStop() }
        reg(I2C1.dr).store(UInt32(register))
        guard wait(I2C1.btf) else { return i2cStop() }
        // Repeated start, address + R.
        let n = into.count
        if n == 1 {
            // One byte: NACK it and request STOP before clearing ADDR (RM0383 §18.3.3).
            guard i2cStart(address << 1 | 1, clearAddress: false) else { return false }
            modify(I2C1.cr1, clear: I2C1.ack, set: 0)
            _ = reg(I2C1.sr1).load()
            _ = reg(I2C1.sr2).load()
            setBits(I2C1.cr1, I2C1.stop)
            guard wait(I2C1.rxne) else { return false }
            into[0] = UInt8(truncatingIfNeeded: reg(I2C1.dr).load())
            return true
        }
        setBits(I2C1.cr1, I2C1.ack)
        guard i2cStart(address << 1 | 1) else { return false }
        for i in 0..<n {
            guard wait(I2C1.rxne) else { return i2cStop() }
            into[i] = UInt8(truncatingIfNeeded: reg(I2C1.dr).load())
            // After taking the second-to-last byte, NACK the last one and ask for STOP while it is
            // still being shifted in (22 µs at 400 kHz). Simpler than the BTF-based sequence of
            // RM0383 and correct as long as nothing interrupts this loop (nothing does: no IRQs).
            if i == n - 2 {
                modify(I2C1.cr1, clear: I2C1.ack, set: 0)
                setBits(I2C1.cr1, I2C1.stop)
            }
        }
        return true
    }

    /// START, then the address byte; false (after a STOP) on a NACK or timeout.
    private mutating func i2cStart(_ addressByte: UInt8, clearAddress: Bool = true) -> Bool {
        setBits(I2C1.cr1, I2C1.start)
        guard wait(I2C1.sb) else { return i2cStop() }
        reg(I2C1.dr).store(UInt32(addressByte))
        guard wait(I2C1.addr) else { return i2cStop() }
        if clearAddress {
            _ = reg(I2C1.sr1).load()
            _ = reg(I2C1.sr2).load()                                // reading SR1 then SR2 clears ADDR
        }
        return true
    }

    /// Waits for an SR1 flag for at most ~1 ms; false on timeout or acknowledge failure.
    private mutating func wait(_ flag: UInt32) -> Bool {
        let deadline = microseconds() &+ 1_000
        while true {
            let sr1 = reg(I2C1.sr1).load()
            if sr1 & flag != 0 { return true }
            if sr1 & I2C1.af != 0 {
                modify(I2C1.sr1, clear: I2C1.af, set: 0)
                return false
            }
            if microseconds() > deadline { return false }
        }
    }

    @discardableResult
    private func i2cStop() -> Bool {
        setBits(I2C1.cr1, I2C1.stop)
        return false
    }
}
