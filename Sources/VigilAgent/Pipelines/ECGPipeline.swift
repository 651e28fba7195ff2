import Foundation
import Logging
import VigilAlerts
import VigilSensors

/// ECG in, heart rate and rhythm predictions out.
///
/// Per sample: `ECGMonitor` (R-peak detector, signal-quality index and the gate between them) at
/// the source's rate; the model's window assembler behind a resampler when the model expects
/// another rate. Heart rate is published as unavailable while the monitor withholds it. A window that overlaps any rejected verdict goes to the alarm engine
/// as withheld: predictions on poor signal are never alarmed on.
final class ECGPipeline: SignalPipeline, @unchecked Sendable {  // driven by its source's task only (SourceService)
    let config: AgentConfiguration.Pipeline
    let hub: AgentHub
    let slot: ModelSlot?
    let logger: Logger
    let vitalsInterval: Double
    /// Wall-clock time of the source's sample 0, fixed at the first block.
    private var origin: Date?
    private var rate: Double = 0
    private var monitor: ECGMonitor?
    private var assembler: WindowAssembler?
    private var resampler: Resampler?
    private var resampled: [Float] = []
    private var modelRate: Double = 0
    private var expectedIndex: Int64 = 0
    /// Source-rate index of the last sample judged unacceptable (-1: none yet).
    private var lastRejected: Int64 = -1
    private var lastVerdict = SignalQuality.good
    private var poorReported = false
    private var leadOffReported = false
    private var nextVitalsAt: Int64 = 0
    private(set) var gaps = 0

    init(config: AgentConfiguration.Pipeline, hub: AgentHub, slot: ModelSlot?, vitalsInterval: Double, logger: Logger) {
        self.config = config
        self.hub = hub
        self.slot = slot
        self.vitalsInterval = vitalsInterval
        self.logger = logger
    }

    /// Handles one event from the source.
    func handle(_ event: SourceEvent) async throws(AgentError) {
        switch event {
        case .samples(let block):
            if let channel = config.channel, channel != block.channel { return }
            try await samples(block)
        case .technical(let channel, let condition, let present, _):
            if let c = config.channel, c != channel { return }
            if condition == .leadOff {
                monitor?.leadOff = present
                if present != leadOffReported {
                    leadOffReported = present
                    await hub.technical(.leadOff, source: config.name, present: present)
                }
            } else {
                await hub.technical(.sensorFault, source: config.name, present: present)
            }
        case .link(let up):
            await hub.technical(.linkLoss, source: config.name, present: !up)
        case .numeric:
            break
        }
    }

    private func start(_ block: SampleBlock) throws(AgentError) {
        rate = block.rate
        origin = Date().addingTimeInterval(-Double(block.deviceMicros) / 1e6)
        do {
            monitor = try ECGMonitor(sampleRate: rate)
            if let model = slot?.current {
                modelRate = model.sampleRate ?? rate
                let length = config.window ?? model.windowSamples
                guard length == model.inputCount else {
                    throw AgentError(.config, "pipeline \(config.name): window \(length) samples, but the model \(model.path) takes \(model.inputCount) values")
                }
                let norm: WindowAssembler.Normalization = switch config.normalize {
                case .none: .none
                case .mean: .meanSubtraction
                case .zscore: .zScore()
                }
                assembler = try WindowAssembler(length: length, hop: config.hop ?? length, normalization: norm)
                if modelRate != rate { resampler = try Resampler(from: rate, to: modelRate) }
            }
        } catch let e as AgentError {
            throw e
        } catch {
            throw AgentError(.config, "pipeline \(config.name): \(error) (source rate \(block.rate) Hz)")
        }
        nextVitalsAt = block.firstIndex
        expectedIndex = block.firstIndex
    }

    private func samples(_ block: SampleBlock) async throws(AgentError) {
        if origin == nil { try start(block) }
        guard block.rate == rate else {
            throw AgentError(.source, "pipeline \(config.name): source rate changed from \(rate) to \(block.rate) Hz")
        }
        if block.firstIndex != expectedIndex {
            // A gap (lost frames): no window or RR interval may span it.
            gaps += 1
            logger.warning("sample gap", metadata: ["pipeline": "\(config.name)", "expected": "\(expectedIndex)", "got": "\(block.firstIndex)"])
            restartAfterGap()
        }
        expectedIndex = block.firstIndex + Int64(block.samples.count)
        let origin = origin!
        var windows: [(end: Int64, values: [Float])] = []
        var index = block.firstIndex
        for x in block.samples {
            monitor!.process(x, onBeat: { _ in }, onQuality: { verdict, _ in
                lastVerdict = verdict
                if !verdict.isAcceptable { lastRejected = index }
            })
            if assembler != nil {
                if resampler != nil {
                    resampled.removeAll(keepingCapacity: true)
                    resampler!.process(x) { resampled.append($0) }
                    for y in resampled { feedModel(y, endingAt: index, &windows) }
                } else {
                    feedModel(x, endingAt: index, &windows)
                }
            }
            index += 1
        }
        await hub.samples(pipeline: config.name, channel: block.channel, block: config.publishWaveform ? block : nil,
                          start: origin.addingTimeInterval(Double(block.deviceMicros) / 1e6))
        try await updateQualityAlarm()
        for w in windows { try await predict(w.values, endSourceIndex: w.end, origin: origin) }
        if index >= nextVitalsAt {
            nextVitalsAt = index + Int64(vitalsInterval * rate)
            await publishHeartRate(at: origin.addingTimeInterval(Double(index) / rate))
        }
    }

    private func feedModel(_ y: Float, endingAt index: Int64, _ windows: inout [(end: Int64, values: [Float])]) {
        assembler!.append(y) { windows.append((index, Array($0))) }
    }

    private func restartAfterGap() {
        let leadOff = monitor?.leadOff ?? false
        monitor = try? ECGMonitor(sampleRate: rate)
        monitor?.leadOff = leadOff
        if let a = assembler { assembler = try? WindowAssembler(length: a.length, hop: a.hop, normalization: a.normalization) }
        lastRejected = expectedIndex
    }

    private func updateQualityAlarm() async throws(AgentError) {
        let poor = !lastVerdict.isAcceptable && !lastVerdict.flags.contains(.leadOff)
        if poor != poorReported {
            poorReported = poor
            logger.info("signal quality \(lastVerdict)", metadata: ["pipeline": "\(config.name)"])
            await hub.technical(.poorSignalQuality, source: config.name, present: poor)
        }
    }

    private func predict(_ window: [Float], endSourceIndex: Int64, origin: Date) async throws(AgentError) {
        guard let model = slot?.current else { return }
        // The window in source samples: accepted only if no rejected verdict touched it.
        let startSource = endSourceIndex + 1 - Int64((Double(window.count) * rate / modelRate).rounded())
        let accepted = lastVerdict.isAcceptable && lastRejected < startSource
        let t0 = ContinuousClock.now
        let scores = try model.run(window)
        let micros = Int((ContinuousClock.now - t0) / .microseconds(1))
        let start = origin.addingTimeInterval(Double(startSource) / rate)
        await hub.prediction(PredictionRecord(
            pipeline: config.name, model: model.identity, labels: model.labels, scores: scores, accepted: accepted,
            windowStart: start, windowEnd: start.addingTimeInterval(Double(window.count) / modelRate),
            inferenceMicros: micros))
    }

    private func publishHeartRate(at time: Date) async {
        let value = monitor?.heartRate
        await hub.vital(VitalReading(vital: .heartRate, value: value.map { ($0 * 10).rounded() / 10 },
                                     quality: value == nil ? (lastVerdict.isAcceptable ? "insufficient-beats" : "\(lastVerdict)") : "good",
                                     source: config.name, time: time))
    }
}
