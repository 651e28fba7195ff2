import Foundation
import Logging
import VigilAlerts
import VigilSensors

/// Pulse oximetry in, SpO2 (scored by the alarm engine) and pulse rate (published) out.
///
/// Red and infrared arrive as separate waveform blocks of the same sample indexes (the sensor
/// bridge samples both LEDs together); samples are paired by index, and an unpaired stretch (a lost
/// block on one channel) restarts the estimators rather than pairing the wrong samples.
final class PPGPipeline: SignalPipeline, @unchecked Sendable {  // driven by its source's task only
    let config: AgentConfiguration.Pipeline
    let hub: AgentHub
    let logger: Logger
    let vitalsInterval: Double
    private var origin: Date?
    private var rate: Double = 0
    private var pulse: PPGMonitor?
    private var spo2: SpO2Estimator?
    private var pendingRed: (first: Int64, samples: [Float])?
    private var nextIndex: Int64 = -1
    private var nextVitalsAt: Int64 = 0
    private var probeOff = false

    init(config: AgentConfiguration.Pipeline, hub: AgentHub, vitalsInterval: Double, logger: Logger) {
        self.config = config
        self.hub = hub
        self.vitalsInterval = vitalsInterval
        self.logger = logger
    }

    func handle(_ event: SourceEvent) async throws(AgentError) {
        switch event {
        case .samples(let block) where block.channel == "ppg-red":
            pendingRed = (block.firstIndex, block.samples)
        case .samples(let block) where block.channel == "ppg-ir":
            guard let red = pendingRed, red.first == block.firstIndex, red.samples.count == block.samples.count else {
                logger.debug("unpaired ppg block", metadata: ["ir_first": "\(block.firstIndex)", "red_first": "\(pendingRed.map { "\($0.first)" } ?? "-")"])
                pendingRed = nil
                return
            }
            pendingRed = nil
            try await pairs(red: red.samples, ir: block)
        case .technical(let channel, let condition, let present, _) where channel.hasPrefix("ppg") && condition == .sensorFault:
            probeOff = present
            pulse?.probeOff = present
            spo2?.probeOff = present
            await hub.technical(.sensorFault, source: config.name, present: present)
        case .link(let up):
            await hub.technical(.linkLoss, source: config.name, present: !up)
        default:
            break
        }
    }

    private func pairs(red: [Float], ir block: SampleBlock) async throws(AgentError) {
        if origin == nil || block.rate != rate || block.firstIndex != nextIndex {
            if origin != nil { logger.warning("PPG gap or rate change: estimators restart", metadata: ["pipeline": "\(config.name)"]) }
            rate = block.rate
            origin = origin ?? Date().addingTimeInterval(-Double(block.deviceMicros) / 1e6)
            do {
                pulse = try PPGMonitor(sampleRate: rate)
                spo2 = try SpO2Estimator(sampleRate: rate)
            } catch {
                throw AgentError(.source, "pipeline \(config.name): \(error)")
            }
            pulse!.probeOff = probeOff
            spo2!.probeOff = probeOff
            nextVitalsAt = block.firstIndex + Int64(vitalsInterval * rate)
        }
        for (r, i) in zip(red, block.samples) {
            pulse!.process(i, onPulse: { _ in })
            _ = spo2!.process(red: r, ir: i)
        }
        nextIndex = block.firstIndex + Int64(block.samples.count)
        await hub.samples(pipeline: config.name, channel: "ppg-ir", block: config.publishWaveform ? block : nil,
                          start: origin!.addingTimeInterval(Double(block.deviceMicros) / 1e6))
        if nextIndex >= nextVitalsAt {
            nextVitalsAt = nextIndex + Int64(vitalsInterval * rate)
            let time = origin!.addingTimeInterval(Double(nextIndex) / rate)
            let quality = spo2!.quality
            await hub.vital(VitalReading(vital: .spo2, value: spo2!.spo2.map { $0.rounded() },
                                         quality: spo2!.spo2 == nil ? "\(quality)" : "good", source: config.name, time: time))
            logger.debug("ppg", metadata: ["pipeline": "\(config.name)", "pulse": "\(pulse!.pulseRate.map { "\($0)" } ?? "-")",
                                           "spo2": "\(spo2!.spo2.map { "\($0)" } ?? "-")", "ratio": "\(spo2!.ratio.map { "\($0)" } ?? "-")",
                                           "quality": "\(quality)"])
        }
    }
}
