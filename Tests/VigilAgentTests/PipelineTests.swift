import Foundation
import Logging
import Testing
import VigilAlerts
import VigilIO
@testable import VigilAgent

/// Collects everything the hub sends out.
actor CollectingSink: AgentSink {
    var vitals: [VitalReading] = []
    var predictions: [PredictionRecord] = []
    var events: [AlarmEvent] = []
    var waveformSamples = 0
    func vital(_ reading: VitalReading) async { vitals.append(reading) }
    func prediction(_ record: PredictionRecord) async { predictions.append(record) }
    func alarms(_ events: [AlarmEvent], active: [AlarmSnapshot], clock: EngineClock) async { self.events += events }
    func waveform(pipeline: String, block: SampleBlock, start: Date) async { waveformSamples += block.samples.count }
}

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

@Suite(.serialized) struct PipelineTests {
    /// The demo pipeline over the whole MIT-BIH 208 excerpt at full speed: every window reaches the
    /// model with the right samples, the two signal-loss stretches are withheld, heart rate is
    /// published and gated, and the model alarm fires.
    @Test func demoPipelineOverTheWholeRecording() async throws {
        var config = try AgentConfiguration.demo(root: repoRoot)
        config.sources[0].speed = .max
        config.sources[0].loop = false
        config.mqtt.broker = nil
        config.stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-agent-test-\(getpid())").path
        let sink = CollectingSink()
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        try await Agent(configuration: config, logger: logger, sinks: [sink]).run(duration: 120)

        let ecg = try NPY.read(contentsOf: URL(fileURLWithPath: config.sources[0].path)).asFloat32()
        let predictions = await sink.predictions
        #expect(predictions.count == (ecg.count - 720) / 180 + 1)
        #expect(await sink.waveformSamples == ecg.count)

        // Oracle: the window cut and mean-subtracted here, run through a separately loaded model.
        let model = try LoadedModel(path: config.pipelines[0].model!, trustedKeys: nil)
        var mismatches = 0
        for (k, p) in predictions.enumerated() {
            let w = ecg[(k * 180)..<(k * 180 + 720)]
            let mean = w.reduce(0.0) { $0 + Double($1) } / 720
            let expected = try model.run(w.map { Float(Double($0) - mean) })
            if zip(expected, p.scores).contains(where: { abs($0 - $1) > 1e-6 }) { mismatches += 1 }
        }
        #expect(mismatches == 0)

        // Stretches without any QRS (model card: [96.32, 98.92] s and [209.39, 213.59] s, where the
        // reference detector's R-R gap exceeds 2 s): every window lying inside one is withheld.
        func inside(_ k: Int, _ a: Double, _ b: Double) -> Bool { Double(k) * 0.5 >= a && Double(k) * 0.5 + 2 <= b }
        let lossWindows = predictions.indices.filter { inside($0, 96.32, 98.92) || inside($0, 209.39, 213.59) }
        #expect(lossWindows.count == 6)
        let accepted = predictions.indices.filter { predictions[$0].accepted }
        let acceptedLoss = lossWindows.filter { predictions[$0].accepted }
        #expect(acceptedLoss.isEmpty, "windows over signal loss accepted: \(acceptedLoss)")
        #expect(accepted.count > predictions.count * 9 / 10)

        let hr = await sink.vitals.filter { $0.vital == .heartRate }
        #expect(hr.count >= 290)
        let values = hr.compactMap(\.value)
        #expect(values.count > hr.count * 8 / 10)
        #expect(values.allSatisfy { (30...220).contains($0) })
        #expect(hr.contains { $0.value == nil && $0.quality != "good" })

        let events = await sink.events
        #expect(events.contains { $0.condition.kind == .model && $0.state == .active && $0.model?.id == "ecg-rhythm" })
    }

    @Test func untrustedModelIsRefused() throws {
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-keys-\(getpid())")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        try String(repeating: "ab", count: 32).write(to: keys.appendingPathComponent("other.pub"), atomically: true, encoding: .utf8)
        do {
            _ = try LoadedModel(path: "\(repoRoot)/Models/ecg-rhythm/model.vigil", trustedKeys: keys.path)
            Issue.record("an unsigned model was accepted with trusted keys configured")
        } catch {
            #expect(error.code == .untrustedModel)
            #expect(error.detail.contains("unsigned"))
        }
    }

    @Test func alarmLabelMustExist() throws {
        var config = try AgentConfiguration.demo(root: repoRoot)
        config.pipelines[0].alarms[0].label = "afib"
        let model = try LoadedModel(path: config.pipelines[0].model!, trustedKeys: nil)
        let agent = Agent(configuration: config, logger: Logger(label: "test"))
        #expect(throws: AgentError.self) { try agent.alertProfile(config, slots: ["ecg-rhythm": ModelSlot(model)]) }
    }
}
