import ArgumentParser
import Foundation
import Logging
import VigilAgent

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the bedside agent: sources -> models and vitals -> alarms -> MQTT and the cloud outbox.",
        discussion: """
            With no --config, runs the bundled demo: a real ECG (MIT-BIH record 208 excerpt) replayed \
            at real time into the ecg-rhythm example model and the R-peak heart rate, published to a \
            broker at mqtt://127.0.0.1:1883 (Tools/run-demo.sh starts one). Flags override the \
            configuration. SIGTERM or Ctrl-C shuts down gracefully; SIGHUP reads the configuration again and reloads the \
            models (settings other than model files and trusted keys are logged and wait for a restart). \
            docs/AGENT.md documents the configuration file.

            Examples:
              vigil run
              vigil run --duration 20 --broker mqtt://127.0.0.1:1883
              vigil run --config /etc/vigil/vigil.yaml --state-dir /var/lib/vigil
              vigil run --config vigil.yaml --check-config

            Exit status: 0 after a clean shutdown, 2 for a configuration or input error, 3 for a \
            model whose signature does not verify, 1 for a failure while running.
            """
    )

    @Option(help: "Configuration file (YAML). Without it the bundled demo runs.") var config: String?
    @Option(help: "MQTT broker URL (mqtt://host:port or mqtts://host:port); overrides the configuration.") var broker: String?
    @Option(help: "FHIR R4 base URL for the cloud outbox; overrides the configuration.") var cloudURL: String?
    @Option(help: "State directory (outbox, runtime state); created 0700.") var stateDir: String?
    @Option(help: "Stop gracefully after this many seconds.") var duration: Double?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"
    @Flag(help: "Validate the configuration, print it as understood, and exit.") var checkConfig = false

    func validate() throws {
        if let duration, !(duration > 0 && duration.isFinite) { throw ValidationError("--duration must be a positive number of seconds") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel): expected trace, debug, info, notice, warning, error or critical") }
    }

    /// Reads the configuration (the file, or the demo) and applies the command-line overrides.
    /// Also what SIGHUP calls to read it again.
    static func loadConfiguration(path: String?, broker: String?, cloudURL: String?, stateDir: String?) throws -> AgentConfiguration {
        var cfg: AgentConfiguration
        if let path {
            cfg = try AgentConfiguration.load(path: path)
        } else {
            guard let root = AgentConfiguration.locateDemoRoot() else {
                throw ConfigError(file: "<demo>", key: "", value: nil,
                                  expected: "the demo's files (Models/ecg-rhythm) next to this executable or in /usr/local/share/vigil; set VIGIL_DEMO_ROOT or pass --config")
            }
            cfg = try AgentConfiguration.demo(root: root)
        }
        try cfg.override(broker: broker, cloudURL: cloudURL, stateDir: stateDir)
        return cfg
    }

    func run() async throws {
        let (config, broker, cloudURL, stateDir) = (self.config, self.broker, self.cloudURL, self.stateDir)
        let cfg: AgentConfiguration
        do {
            cfg = try Self.loadConfiguration(path: config, broker: broker, cloudURL: cloudURL, stateDir: stateDir)
        } catch let e as ConfigError {
            throw fail("\(e)")
        }
        if checkConfig {
            print(cfg.summary)
            return
        }
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "vigil")
        do {
            let reload: @Sendable () throws -> AgentConfiguration = {
                try Self.loadConfiguration(path: config, broker: broker, cloudURL: cloudURL, stateDir: stateDir)
            }
            try await Agent(configuration: cfg, logger: logger, reloadConfiguration: reload).run(duration: duration)
        } catch let e as AgentError {
            switch e.code {
            case .config, .model, .source: throw fail(e.detail)
            case .untrustedModel: throw fail(e.detail, Exit.untrusted)
            case .output, .state: throw fail(e.detail, Exit.failure)
            }
        }
    }
}
