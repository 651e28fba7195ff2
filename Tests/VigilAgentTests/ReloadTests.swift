import Foundation
import Logging
import Testing
@testable import VigilAgent

/// SIGHUP: what a configuration reload applies live, what it leaves for a restart, and that a bad
/// file or a model that does not fit changes nothing.
@Suite struct ReloadTests {
    @Test func planSplitsLiveChangesFromRestartOnes() throws {
        let old = try AgentConfiguration.parse(ConfigurationTests.valid, file: "v.yaml")
        #expect(old.reloadPlan(to: old) == ReloadPlan())

        let text = ConfigurationTests.valid
            .replacingOccurrences(of: "model: /models/ecg.vigil", with: "model: /models/ecg-v2.vigil")
            .replacingOccurrences(of: "threshold: 0.9", with: "threshold: 0.8")
            .replacingOccurrences(of: "broker: mqtt://10.0.0.2:1884", with: "broker: mqtt://10.0.0.3:1884")
            .replacingOccurrences(of: "vitals_interval: 500ms", with: "vitals_interval: 2s")
        let new = try AgentConfiguration.parse(text, file: "v.yaml")
        let plan = old.reloadPlan(to: new)
        #expect(plan.modelPaths == ["rhythm": "/models/ecg-v2.vigil"])
        #expect(plan.trustedKeys == nil)
        #expect(plan.restartRequired == ["pipelines[0].alarms", "mqtt", "vitals_interval"])

        // Applied: only the model path; the rest keeps its running value.
        let running = old.applying(plan)
        #expect(running.pipelines[0].model == "/models/ecg-v2.vigil")
        #expect(running.pipelines[0].alarms == old.pipelines[0].alarms)
        #expect(running.mqtt == old.mqtt && running.vitalsIntervalSeconds == old.vitalsIntervalSeconds)
        // The same file read again after the reload: nothing more to apply, the same keys still wait.
        #expect(running.reloadPlan(to: new).modelPaths.isEmpty)
        #expect(running.reloadPlan(to: new).restartRequired == plan.restartRequired)
    }

    /// The model's threads are set when its interpreter is made: a change waits for a restart.
    @Test func threadsChangeNeedsARestart() throws {
        let old = try AgentConfiguration.parse(ConfigurationTests.valid, file: "v.yaml")
        let text = ConfigurationTests.valid.replacingOccurrences(of: "    normalize: mean\n", with: "    normalize: mean\n    threads: 2\n")
        let plan = old.reloadPlan(to: try AgentConfiguration.parse(text, file: "v.yaml"))
        #expect(plan.restartRequired == ["pipelines[0].threads"] && plan.modelPaths.isEmpty)
    }

    @Test func trustedKeysAndPipelineStructure() throws {
        let old = try AgentConfiguration.parse(ConfigurationTests.valid, file: "v.yaml")
        var new = old
        new.trustedKeys = "/etc/vigil/keys"
        new.pipelines[0].window = 360
        new.pipelines.append(new.pipelines[0])
        new.pipelines[1].name = "second"
        let plan = old.reloadPlan(to: new)
        #expect(plan.trustedKeys == .some("/etc/vigil/keys"))
        #expect(plan.restartRequired == ["pipelines (added, removed or reordered)"])
        #expect(old.applying(plan).trustedKeys == "/etc/vigil/keys")
    }

    /// The reloader end to end on real model files: a new model path is loaded and swapped in; a
    /// file that does not parse, and a model with another input size, leave everything running.
    @Test func reloaderAppliesModelPathsAndRefusesWhatDoesNotFit() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.vigil").path, b = dir.appendingPathComponent("b.vigil").path
        try FileManager.default.copyItem(atPath: "\(repoRoot)/Models/ecg-rhythm/model.vigil", toPath: a)
        try FileManager.default.copyItem(atPath: "\(repoRoot)/Models/ecg-rhythm/model.vigil", toPath: b)
        let file = dir.appendingPathComponent("vigil.yaml").path
        func write(model: String, interval: String = "1s") throws {
            try """
            device: {site: ward-3, id: bed-12, patient: Patient/p}
            sources:
              - {name: ecg, kind: recording, path: /data/ecg.npy, rate: 360}
            pipelines:
              - {name: rhythm, kind: ecg, source: ecg, model: \(model), window: 720, hop: 180}
            vitals_interval: \(interval)
            """.write(toFile: file, atomically: true, encoding: .utf8)
        }
        try write(model: a)
        let start = try AgentConfiguration.load(path: file)
        let slot = ModelSlot(try LoadedModel(path: a, trustedKeys: nil))
        let logger = Logger(label: "test")
        let models = ModelReloader(slots: ["rhythm": slot], trustedKeys: nil, logger: logger)
        let reloader = ConfigurationReloader(running: start, load: { try AgentConfiguration.load(path: file) }, models: models, logger: logger)

        try write(model: b, interval: "2s")
        var outcome = reloader.reload()
        #expect(outcome.configurationError == nil)
        #expect(outcome.models == .accepted)
        #expect(outcome.restartRequired == ["vitals_interval"])
        #expect(slot.path == b)
        #expect(reloader.current.pipelines[0].model == b && reloader.current.vitalsIntervalSeconds == 1)

        try "pipelines: [".write(toFile: file, atomically: true, encoding: .utf8)
        outcome = reloader.reload()
        #expect(outcome.configurationError?.contains(file) == true)
        #expect(outcome.models == .failed(code: "config_invalid", detail: outcome.configurationError ?? ""))
        #expect(slot.path == b && reloader.current.pipelines[0].model == b)

        // A model with another input size (the breast-cancer MLP takes 30 values) is refused.
        try write(model: "\(repoRoot)/Models/breast-cancer-mlp/model.vigil")
        outcome = reloader.reload()
        #expect(outcome.configurationError == nil)
        guard case .failed(let code, let detail) = outcome.models else {
            Issue.record("a model with another input size was swapped in")
            return
        }
        #expect(code == "reload_failed" && detail.contains("restart the agent"))
        #expect(slot.path == b)
        // The running configuration names the file that runs, and the next SIGHUP tries the new one again.
        #expect(reloader.current.pipelines[0].model == b)
        guard case .failed = reloader.reload().models else {
            Issue.record("the refused model was not tried again on the next reload")
            return
        }
        #expect(slot.path == b)
    }
}

/// Recording sources read every format the vitals readers do, taking the rate from the file when
/// it carries one.
@Suite struct RecordingSourceTests {
    @Test func csvWithTimeColumnNeedsNoRate() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-rec-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var text = "time,ecg\n"
        for i in 0..<500 { text += "\(Double(i) / 250),\(Double(i % 25) / 10)\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let config = try AgentConfiguration.parse("""
            device: {site: s, id: d, patient: Patient/p}
            sources: [{name: rec, kind: recording, path: \(path)}]
            pipelines: [{name: hr, kind: ecg, source: rec}]
            """, file: "v.yaml")
        let source = try RecordingSource(config: config.sources[0])
        #expect(source.rate == 250)
        #expect(source.samples.count == 500 && source.samples[24] == 2.4 && source.samples[25] == 0)
    }

    @Test func npyWithoutRateIsAConfigurationError() {
        #expect(throws: ConfigError.self) {
            try AgentConfiguration.parse("""
                device: {site: s, id: d, patient: Patient/p}
                sources: [{name: rec, kind: recording, path: /data/ecg.npy}]
                pipelines: [{name: hr, kind: ecg, source: rec}]
                """, file: "v.yaml")
        }
    }
}
