import SensorLink

/// The sensor-bridge firmware's logic, generic over the board: start-up of both sensors, the
/// sampling schedule with device timestamps, ring buffers, and SensorLink framing onto the UART.
///
/// The main loop calls `poll()` as often as it can; every call reads what the sensors have ready
/// (ECG on DRDY, the oximeter FIFO on its PPG_RDY/A_FULL interrupt or every
/// `oximeterPollInterval`), sends full
/// waveform blocks, the periodic status and hello, and hands queued bytes to the UART. After `init`
/// nothing allocates: rings, the transmit queue, the frame buffer, the hello and the fault list
/// are sized once.
public struct SensorBridge<Board: SensorBoard> {
    /// The hardware.
    public var board: Board
    /// What the bridge was configured with.
    public let configuration: BridgeConfiguration
    /// Counters since boot.
    public private(set) var statistics = BridgeStatistics()

    private var ads = ADS1292R()
    private var oximeter = MAX30102()
    private var ecgRing: SampleRing
    private var respirationRing: SampleRing
    private var redRing: SampleRing
    private var infraredRing: SampleRing
    private var encoder = FrameEncoder()
    private var transmit: ByteQueue
    private var frame: [UInt8]
    private var helloBoot: Hello
    private var helloPeriodic: Hello
    private var faults: [SensorFault]

    private var leadOff: UInt16 = 0
    private var ecgFault: FaultCode?
    private var oximeterFault: FaultCode?
    /// The oximeter lost samples since the last status.
    private var oximeterOverrun = false
    private var oximeterSaturated = false
    private var noContact = false
    private var statusDue = false
    private var nextStatus: UInt64 = 0
    private var nextHello: UInt64 = 0
    private var nextOximeterPoll: UInt64 = 0

    /// Sizes every buffer; touches no hardware.
    public init(board: Board, configuration: BridgeConfiguration = BridgeConfiguration()) {
        self.board = board
        self.configuration = configuration
        let c = configuration
        ecgRing = SampleRing(capacity: c.ecg.ringCapacity)
        respirationRing = SampleRing(capacity: c.respiration.ringCapacity)
        redRing = SampleRing(capacity: c.red.ringCapacity)
        infraredRing = SampleRing(capacity: c.infrared.ringCapacity)
        transmit = ByteQueue(capacity: c.transmitQueueBytes)
        let channels = [
            Self.info(BridgeChannel.ecg, .ecg, c.ecg), Self.info(BridgeChannel.respiration, .respiration, c.respiration),
            Self.info(BridgeChannel.red, .ppgRed, c.red), Self.info(BridgeChannel.infrared, .ppgInfrared, c.infrared),
        ]
        helloBoot = Hello(firmware: c.firmware, boot: true, channels: channels)
        helloPeriodic = Hello(firmware: c.firmware, boot: false, channels: channels)
        faults = []
        faults.reserveCapacity(Self.maxFaults)
        frame = [UInt8](repeating: 0, count: Self.frameBufferLength(c, hello: helloBoot))
    }

    private static var maxFaults: Int { 4 }

    private static func info(_ id: UInt8, _ kind: ChannelKind, _ s: ChannelSettings) -> ChannelInfo {
        ChannelInfo(id: id, kind: kind, format: s.format, unit: s.unit, rate: s.rate, scale: s.scale, offset: s.offset)
    }

    /// Wire bytes of the longest frame the bridge sends.
    static func frameBufferLength(_ c: BridgeConfiguration, hello: Hello) -> Int {
        var longest = Payload.hello(hello).payloadLength
        longest = max(longest, 9 + 2 * maxFaults)
        for s in [c.ecg, c.respiration, c.red, c.infrared] {
            longest = max(longest, WaveformBlock.payloadLength(count: s.blockSamples, format: s.format))
        }
        return SensorLink.maxEncodedLength(frameLength: SensorLink.minFrameLength + longest)
    }

    /// Starts the link and the sensors: a 0x00 (so the host drops any partial frame it held), the
    /// boot hello (sequence 0), the sensors' start-up, then a status with any start-up fault.
    public mutating func boot() {
        var zero: UInt8 = 0
        _ = withUnsafePointer(to: &zero) { transmit.append(UnsafeBufferPointer(start: $0, count: 1)) }
        let now = board.microseconds()
        _ = sendHello(boot: true, now: now)
        ecgFault = ads.start(&board, rate: configuration.frontEndRate)
        oximeterFault = oximeter.start(&board)
        let started = board.microseconds()
        statusDue = true
        nextHello = started &+ configuration.helloInterval
        nextOximeterPoll = started &+ configuration.oximeterPollInterval
        pumpTransmitter()
    }

    /// One pass of the main loop.
    public mutating func poll() {
        let now = board.microseconds()
        if ecgFault == nil && board.ecgDataReady() {
            if let s = ads.readSample(&board) {
                ecgRing.push(s.channel2, time: now)
                respirationRing.push(s.channel1, time: now)
                statistics.ecgSamples &+= 1
                if s.leadOff != leadOff {
                    leadOff = s.leadOff
                    statusDue = true
                }
            }
        }
        if oximeterFault == nil {
            let interrupt = board.oximeterInterrupt()
            if interrupt || now >= nextOximeterPoll {
                readOximeter(now: now, interrupt: interrupt)
                nextOximeterPoll = now &+ configuration.oximeterPollInterval
            }
        }
        sendFullBlocks(now: now)
        if statusDue || now >= nextStatus {
            if sendStatus(now: now) {
                statusDue = false
                oximeterOverrun = false
                nextStatus = now &+ configuration.statusInterval
            }
        }
        if now >= nextHello, sendHello(boot: false, now: now) {
            nextHello = now &+ configuration.helloInterval
        }
        pumpTransmitter()
    }

    /// Queues every buffered sample, partial blocks included, and a status (the end of a replay,
    /// or before a planned stop). Returns false if the transmit queue could not take it all yet:
    /// pump it and call again.
    public mutating func flush() -> Bool {
        let now = board.microseconds()
        sendFullBlocks(now: now)
        let c = configuration
        guard Self.sendBlock(&ecgRing, BridgeChannel.ecg, c.ecg, min(ecgRing.count, c.ecg.blockSamples), now, &encoder, &transmit, &frame, &statistics),
              Self.sendBlock(&respirationRing, BridgeChannel.respiration, c.respiration, min(respirationRing.count, c.respiration.blockSamples), now, &encoder, &transmit, &frame, &statistics),
              Self.sendBlock(&redRing, BridgeChannel.red, c.red, min(redRing.count, c.red.blockSamples), now, &encoder, &transmit, &frame, &statistics),
              Self.sendBlock(&infraredRing, BridgeChannel.infrared, c.infrared, min(infraredRing.count, c.infrared.blockSamples), now, &encoder, &transmit, &frame, &statistics)
        else { return false }
        if ecgRing.count + respirationRing.count + redRing.count + infraredRing.count > 0 { return false }
        return sendStatus(now: now)
    }

    /// Hands queued bytes to the UART (as many as it takes now).
    public mutating func pumpTransmitter() {
        Self.pump(&transmit, &board)
    }

    private static func pump(_ transmit: inout ByteQueue, _ board: inout Board) {
        transmit.drain { board.uartWrite($0) }
    }

    /// Bytes queued for the UART.
    public var transmitPending: Int { transmit.count }

    /// Samples lost on the device since boot: ring overwrites and the oximeter's FIFO overflow.
    public var droppedSamples: UInt32 {
        ecgRing.overflows &+ respirationRing.overflows &+ redRing.overflows &+ infraredRing.overflows &+ oximeter.lostSamples
    }

    /// The sequence number the next frame will carry.
    public var nextSequence: UInt16 { encoder.nextSequence }

    // MARK: - Sampling

    private mutating func readOximeter(now: UInt64, interrupt: Bool) {
        if interrupt, let flags = oximeter.readInterrupts(&board) {
            let saturated = flags & MAX30102.Interrupt.ambientOverflow != 0
            if saturated != oximeterSaturated {
                oximeterSaturated = saturated
                statusDue = true
            }
        }
        let period = configuration.red.periodMicroseconds
        var lastIR: UInt32 = 0
        let result = oximeter.drain(&board) { red, ir, position, count in
            // The newest sample is dated now; the ones before it one period apart.
            let time = now &- UInt64(count - 1 - position) &* period
            redRing.push(Int32(red), time: time)
            infraredRing.push(Int32(ir), time: time)
            lastIR = ir
        }
        statistics.ppgSamples &+= UInt64(result.samples)
        if !result.ok { statistics.busErrors &+= 1 }
        if result.lost > 0 {
            oximeterOverrun = true
            statusDue = true
        }
        if result.samples > 0 {
            let off = lastIR < configuration.noContactThreshold
            if off != noContact {
                noContact = off
                statusDue = true
            }
        }
    }

    // MARK: - Framing

    private mutating func sendFullBlocks(now: UInt64) {
        let c = configuration
        while ecgRing.count >= c.ecg.blockSamples,
              Self.sendBlock(&ecgRing, BridgeChannel.ecg, c.ecg, c.ecg.blockSamples, now, &encoder, &transmit, &frame, &statistics) {}
        while respirationRing.count >= c.respiration.blockSamples,
              Self.sendBlock(&respirationRing, BridgeChannel.respiration, c.respiration, c.respiration.blockSamples, now, &encoder, &transmit, &frame, &statistics) {}
        while redRing.count >= c.red.blockSamples,
              Self.sendBlock(&redRing, BridgeChannel.red, c.red, c.red.blockSamples, now, &encoder, &transmit, &frame, &statistics) {}
        while infraredRing.count >= c.infrared.blockSamples,
              Self.sendBlock(&infraredRing, BridgeChannel.infrared, c.infrared, c.infrared.blockSamples, now, &encoder, &transmit, &frame, &statistics) {}
    }

    /// Encodes the oldest `n` samples of `ring` as one block and queues it; false when the queue
    /// has no room (the samples stay in the ring). A block that cannot be encoded (a sample outside
    /// an int16 channel's range) is dropped and counted rather than blocking the channel forever.
    private static func sendBlock(_ ring: inout SampleRing, _ id: UInt8, _ s: ChannelSettings, _ n: Int, _ now: UInt64,
                                  _ encoder: inout FrameEncoder, _ transmit: inout ByteQueue, _ frame: inout [UInt8],
                                  _ statistics: inout BridgeStatistics) -> Bool {
        if n == 0 { return true }
        let needed = SensorLink.maxEncodedLength(frameLength: SensorLink.minFrameLength + WaveformBlock.payloadLength(count: n, format: s.format))
        guard transmit.free >= needed else { return false }
        let length: Int
        do {
            var span = frame.mutableSpan
            length = try encoder.encodeWaveform(channel: id, format: s.format, rate: s.rate, firstSampleIndex: ring.firstIndex,
                                                samples: ring.oldest(n), timestamp: ring.oldestTime(now: now), into: &span)
        } catch {
            statistics.unencodableBlocks &+= 1
            ring.removeOldest(n)
            return true
        }
        _ = frame.withUnsafeBufferPointer { transmit.append(UnsafeBufferPointer(rebasing: $0[0..<length])) }
        ring.removeOldest(n)
        statistics.framesSent &+= 1
        return true
    }

    private mutating func sendStatus(now: UInt64) -> Bool {
        faults.removeAll(keepingCapacity: true)
        if let f = ecgFault { faults.append(SensorFault(sensor: .ecgFrontEnd, code: f)) }
        if let f = oximeterFault {
            faults.append(SensorFault(sensor: .pulseOximeter, code: f))
        } else {
            if oximeterOverrun { faults.append(SensorFault(sensor: .pulseOximeter, code: .overrun)) }
            if oximeterSaturated { faults.append(SensorFault(sensor: .pulseOximeter, code: .saturated)) }
            if noContact { faults.append(SensorFault(sensor: .pulseOximeter, code: .noContact)) }
        }
        let status = DeviceStatus(leadOff: LeadOff(rawValue: leadOff), batteryPercent: board.batteryPercent(),
                                  power: .externalPower, droppedSamples: droppedSamples, faults: faults)
        return send(.status(status), now: now)
    }

    private mutating func sendHello(boot: Bool, now: UInt64) -> Bool {
        send(.hello(boot ? helloBoot : helloPeriodic), now: now)
    }

    private mutating func send(_ payload: Payload, now: UInt64) -> Bool {
        Self.send(payload, now, &encoder, &transmit, &frame, &statistics)
    }

    private static func send(_ payload: Payload, _ now: UInt64, _ encoder: inout FrameEncoder, _ transmit: inout ByteQueue,
                             _ frame: inout [UInt8], _ statistics: inout BridgeStatistics) -> Bool {
        let needed = SensorLink.maxEncodedLength(frameLength: SensorLink.minFrameLength + payload.payloadLength)
        guard transmit.free >= needed, needed <= frame.count else { return false }
        let length: Int
        do {
            var span = frame.mutableSpan
            length = try encoder.encode(payload, timestamp: now, into: &span)
        } catch {
            return false
        }
        _ = frame.withUnsafeBufferPointer { transmit.append(UnsafeBufferPointer(rebasing: $0[0..<length])) }
        statistics.framesSent &+= 1
        return true
    }
}

/// Counters of a `SensorBridge` since boot.
public struct BridgeStatistics: Equatable, Sendable {
    /// ADS1292R samples read (each gives one ECG and one respiration sample).
    public var ecgSamples: UInt64 = 0
    /// MAX30102 samples read (each gives one red and one IR sample).
    public var ppgSamples: UInt64 = 0
    /// Frames queued for the UART.
    public var framesSent: UInt64 = 0
    /// I2C transfers that failed.
    public var busErrors: UInt64 = 0
    /// Blocks dropped because a sample did not fit the channel's format.
    public var unencodableBlocks: UInt64 = 0

    /// All zero.
    public init() {}
}
