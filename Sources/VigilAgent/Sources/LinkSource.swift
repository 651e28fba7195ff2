import Foundation
import Logging
import SensorLink
import VigilSensors

/// The sensor bridge over a serial line or TCP: SensorLink events turned into `SourceEvent`s in
/// physical units, using the channel table of the device's hello frame (`(raw - offset) * scale`).
/// Waveform blocks that arrive before any hello cannot be scaled; they are dropped and counted.
struct LinkSource: Sendable {
    let config: AgentConfiguration.Source
    let logger: Logger

    func makeSerialSource() throws(AgentError) -> SerialSource {
        switch config.kind {
        case .serial:
            return SerialSource(path: config.path, baud: config.baud)
        case .tcp:
            guard let hp = parseHostPort(config.path) else { throw AgentError(.config, "source \(config.name): \(config.path) is not host:port") }
            return SerialSource(tcpHost: hp.host, port: UInt16(hp.port))
        case .recording:
            throw AgentError(.config, "source \(config.name) is a recording")
        }
    }

    func run(_ deliver: (SourceEvent) async -> Void) async throws(AgentError) {
        let source = try makeSerialSource()
        var channels: [UInt8: ChannelInfo] = [:]
        var unscaled = 0
        var leadOff = false
        var faults = false
        for await event in source.events() {
            if Task.isCancelled { source.stop(); break }
            switch event {
            case .connected(let endpoint):
                logger.info("sensor link up", metadata: ["source": "\(config.name)", "endpoint": "\(endpoint)"])
                await deliver(.link(up: true))
            case .disconnected(let error):
                logger.warning("sensor link down", metadata: ["source": "\(config.name)", "error": "\(error)"])
                await deliver(.link(up: false))
            case .dropped(let error):
                logger.debug("frame dropped", metadata: ["source": "\(config.name)", "error": "\(error)"])
            case .sequenceGap(let expected, let received, let lost):
                logger.warning("frames lost", metadata: ["source": "\(config.name)", "expected": "\(expected)", "received": "\(received)", "lost": "\(lost)"])
            case .sequenceRewound, .deviceRestarted:
                logger.notice("sensor bridge restarted", metadata: ["source": "\(config.name)"])
            case .frame(let frame):
                switch frame.payload {
                case .hello(let hello):
                    channels = Dictionary(hello.channels.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
                    logger.info("sensor bridge hello", metadata: [
                        "firmware": "\(hello.firmware.major).\(hello.firmware.minor).\(hello.firmware.patch)",
                        "channels": "\(hello.channels.map { "\(Self.name(of: $0.kind))@\($0.rate.hertz)Hz" }.joined(separator: ","))",
                    ])
                case .waveform(let block):
                    guard let info = channels[block.channel] else {
                        unscaled += 1
                        if unscaled == 1 { logger.warning("waveform before hello: dropped until the channel table arrives", metadata: ["source": "\(config.name)"]) }
                        continue
                    }
                    let scale = info.scale, offset = info.offset
                    let samples = block.samples.map { Float($0 &- offset) * scale }
                    await deliver(.samples(SampleBlock(channel: Self.name(of: info.kind), rate: block.rate.hertz,
                                                       firstIndex: Int64(block.firstSampleIndex), deviceMicros: Int64(frame.timestamp),
                                                       samples: samples)))
                case .status(let status):
                    let off = !status.leadOff.isEmpty
                    if off != leadOff {
                        leadOff = off
                        await deliver(.technical(channel: "ecg", condition: .leadOff, present: off, deviceMicros: Int64(frame.timestamp)))
                    }
                    let fault = !status.faults.isEmpty
                    if fault != faults {
                        faults = fault
                        await deliver(.technical(channel: "ecg", condition: .sensorFault, present: fault, deviceMicros: Int64(frame.timestamp)))
                    }
                case .vitals(let vitals):
                    for r in vitals.readings {
                        await deliver(.numeric(kind: "\(r.kind.rawValue)", value: r.value, deviceMicros: Int64(frame.timestamp)))
                    }
                }
            }
        }
        source.stop()
    }

    /// The pipeline-facing channel name of a SensorLink channel kind.
    static func name(of kind: ChannelKind) -> String {
        switch kind {
        case .ecg: "ecg"
        case .respiration: "resp"
        case .ppgRed: "ppg-red"
        case .ppgInfrared: "ppg-ir"
        default: "ch\(kind.rawValue)"
        }
    }
}
