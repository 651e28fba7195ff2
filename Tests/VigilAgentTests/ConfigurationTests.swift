import Testing
@testable import VigilAgent

@Suite struct ConfigurationTests {
    static let valid = """
        device:
          site: ward-3
          id: bed-12
          patient: Patient/pseudo-0001
        sources:
          - name: ecg
            kind: recording
            path: /data/ecg.npy
            rate: 360
        pipelines:
          - name: rhythm
            kind: ecg
            source: ecg
            model: /models/ecg.vigil
            window: 720
            hop: 180
            normalize: mean
            alarms:
              - label: tachy
                threshold: 0.9
                windows: 4
        mqtt:
          broker: mqtt://10.0.0.2:1884
        cloud:
          url: https://fhir.example.org/fhir
          batch_size: 20
        vitals_interval: 500ms
        """

    @Test func parsesAValidFile() throws {
        let c = try AgentConfiguration.parse(Self.valid, file: "v.yaml")
        #expect(c.device == .init(site: "ward-3", id: "bed-12", patient: "Patient/pseudo-0001"))
        #expect(c.sources.count == 1 && c.sources[0].rate == 360 && c.sources[0].speed == .realtime && !c.sources[0].loop)
        #expect(c.pipelines[0].window == 720 && c.pipelines[0].hop == 180 && c.pipelines[0].normalize == .mean)
        #expect(c.pipelines[0].alarms == [.init(label: "tachy", threshold: 0.9, windows: 4, priority: .medium)])
        #expect(c.mqtt.broker == "mqtt://10.0.0.2:1884")
        #expect(c.cloud.url == "https://fhir.example.org/fhir" && c.cloud.batchSize == 20)
        #expect(c.vitalsIntervalSeconds == 0.5)
        #expect(c.pipelines[0].threads == 1)
    }

    /// `threads` per pipeline: 1...64, and only where there is a model to run.
    @Test func pipelineThreads() throws {
        let two = Self.valid.replacingOccurrences(of: "    normalize: mean\n", with: "    normalize: mean\n    threads: 2\n")
        #expect(try AgentConfiguration.parse(two, file: "v.yaml").pipelines[0].threads == 2)
        for bad in ["0", "65", "two"] {
            let text = Self.valid.replacingOccurrences(of: "    normalize: mean\n", with: "    normalize: mean\n    threads: \(bad)\n")
            do {
                _ = try AgentConfiguration.parse(text, file: "v.yaml")
                Issue.record("threads: \(bad) was accepted")
            } catch {
                #expect(error.key == "pipelines[0].threads" && error.description.contains("an integer in 1...64"), "\(error)")
            }
        }
        let noModel = Self.valid
            .replacingOccurrences(of: "    model: /models/ecg.vigil\n", with: "    threads: 2\n")
            .replacingOccurrences(of: "    alarms:\n      - label: tachy\n        threshold: 0.9\n        windows: 4\n", with: "")
        do {
            _ = try AgentConfiguration.parse(noModel, file: "v.yaml")
            Issue.record("threads without a model was accepted")
        } catch {
            #expect(error.key == "pipelines[0].threads" && error.description.contains("no threads without a model"), "\(error)")
        }
    }

    /// Each broken variant must fail naming the key, the line, the value and what was expected.
    @Test(arguments: [
        ("    window: 720", "    window: abc", "v.yaml:15:13: pipelines[0].window: got \"abc\"; expected an integer in 1...10000000 (samples)"),
        ("        threshold: 0.9", "        treshold: 0.9", "v.yaml:20:9: pipelines[0].alarms[0].treshold: got \"treshold\"; expected one of the keys label, threshold, windows, priority"),
        ("        threshold: 0.9", "        threshold: 1.5", "v.yaml:20:20: pipelines[0].alarms[0].threshold: got \"1.5\"; expected a number in 0.0...1.0 (class probability)"),
        ("    source: ecg", "    source: ppg", "v.yaml:13:13: pipelines[0].source: got \"ppg\"; expected the name of a source (one of: ecg)"),
        ("  broker: mqtt://10.0.0.2:1884", "  broker: tcp://10.0.0.2", "v.yaml:23:11: mqtt.broker: got \"tcp://10.0.0.2\"; expected mqtt://host:port or mqtts://host:port"),
        ("  id: bed-12", "  id: bed/12", "v.yaml:3:7: device.id: got \"bed/12\"; expected 1-64 characters from A-Z a-z 0-9 - _ ."),
        ("    rate: 360", "    rate: -1", "v.yaml:9:11: sources[0].rate: got \"-1\"; expected a number in 1.0...100000.0 (samples per second)"),
        ("    kind: recording", "    kind: usb", "v.yaml:7:11: sources[0].kind: got \"usb\"; expected recording | serial | tcp"),
        ("vitals_interval: 500ms", "vitals_interval: soon", "v.yaml:27:18: vitals_interval: got \"soon\"; expected a duration like 10s, 500ms or 5m, in 0.1...3600.0 s (vitals publication interval)"),
    ])
    func rejectsWithWhereAndWhy(original: String, replacement: String, message: String) throws {
        let text = Self.valid.replacingOccurrences(of: original, with: replacement)
        #expect(text != Self.valid)
        #expect(throws: ConfigError.self) { try AgentConfiguration.parse(text, file: "v.yaml") }
        do {
            _ = try AgentConfiguration.parse(text, file: "v.yaml")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func missingKeysAreNamed() {
        let text = Self.valid.replacingOccurrences(of: "  patient: Patient/pseudo-0001\n", with: "")
        do {
            _ = try AgentConfiguration.parse(text, file: "v.yaml")
            Issue.record("a config without device.patient was accepted")
        } catch {
            #expect(error.key == "device.patient" && error.value == nil)
        }
    }

    @Test func syntaxErrorsAreReported() {
        #expect(throws: ConfigError.self) { try AgentConfiguration.parse("device: [unclosed", file: "bad.yaml") }
    }

    @Test func flagsOverrideAndAreValidated() throws {
        var c = try AgentConfiguration.parse(Self.valid, file: "v.yaml")
        try c.override(broker: "mqtts://broker.local", cloudURL: nil, stateDir: "/tmp/x")
        #expect(c.mqtt.broker == "mqtts://broker.local" && c.stateDir == "/tmp/x")
        #expect(throws: ConfigError.self) { try c.override(broker: "broker.local:1883", cloudURL: nil, stateDir: nil) }
        #expect(throws: ConfigError.self) { try c.override(broker: nil, cloudURL: "ftp://x", stateDir: nil) }
    }

    @Test func demoAndExampleParse() throws {
        let demo = try AgentConfiguration.demo(root: "/opt/vigil")
        #expect(demo.pipelines.map(\.name) == ["ecg-rhythm"])
        #expect(demo.sources[0].path == "/opt/vigil/Models/ecg-rhythm/data/mitbih-208-excerpt.npy")
        let example = try AgentConfiguration.load(path: #filePath.replacingOccurrences(of: "Tests/VigilAgentTests/ConfigurationTests.swift", with: "Tools/packaging/vigil.example.yaml"))
        #expect(example.sources[0].kind == .serial && example.sources[0].baud == 921_600)
    }

    @Test func brokerURLs() {
        #expect(parseBrokerURL("mqtt://127.0.0.1:1883")! == (false, "127.0.0.1", 1883))
        #expect(parseBrokerURL("mqtts://host")! == (true, "host", 8883))
        #expect(parseBrokerURL("mqtt://host:0") == nil)
        #expect(parseBrokerURL("http://host:1883") == nil)
    }
}
