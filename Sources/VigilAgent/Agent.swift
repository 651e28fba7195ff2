import Foundation
import Logging
import ServiceLifecycle
import VigilAlerts
import VigilMQTT

/// The bedside agent: sources -> pipelines -> alarm engine -> sinks (MQTT, outbox), composed as
/// services in one `ServiceGroup`. SIGTERM/SIGINT shut down gracefully (sources stop first, then
/// the outputs flush and say goodbye); SIGHUP reloads the configuration (what can change live: model
/// files and trusted keys) and swaps every pipeline's model atomically between windows.
public final class Agent: Sendable {
    public let configuration: AgentConfiguration
    let logger: Logger
    let extraSinks: [any AgentSink]
    let reloadConfiguration: (@Sendable () throws -> AgentConfiguration)?

    /// `sinks` are added to the outputs the configuration asks for (tests use this to observe).
    /// `reloadConfiguration` reads the configuration again on SIGHUP (with the same command-line
    /// overrides); without it SIGHUP reloads the model files only.
    public init(configuration: AgentConfiguration, logger: Logger, sinks: [any AgentSink] = [],
                reloadConfiguration: (@Sendable () throws -> AgentConfiguration)? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.extraSinks = sinks
        self.reloadConfiguration = reloadConfiguration
    }

    /// Runs until SIGTERM/SIGINT, the end of every finite source, or `duration` seconds.
    public func run(duration: Double? = nil) async throws {
        let config = configuration
        try prepareStateDirectory(config.stateDir)

        // Models first: a model that does not load or verify stops the agent before anything runs.
        var slots: [String: ModelSlot] = [:]
        for p in config.pipelines {
            guard let path = p.model else { continue }
            let model = try LoadedModel(path: path, trustedKeys: config.trustedKeys, threads: p.threads)
            logger.info("model loaded", metadata: [
                "pipeline": "\(p.name)", "model": "\(model.identity.id)", "version": "\(model.identity.version)",
                "digest": "\(model.identity.digest ?? "")", "signature": "\(model.signatureStatus)",
                "load_us": "\(model.loadMicroseconds)", "threads": "\(model.threads)",
            ])
            slots[p.name] = ModelSlot(model)
        }
        let profile = try alertProfile(config, slots: slots)

        var sinks = extraSinks
        var outputServices: [any Service] = []
        let models = slots.values.map { ModelInfo(id: $0.current.identity.id, version: $0.current.identity.version, digest: $0.current.identity.digest) }
        let reloader = ModelReloader(slots: slots, trustedKeys: config.trustedKeys, logger: logger)
        let outputs = try OutputFactory.make(config: config, logger: logger, models: models) { modelID in reloader.reload(modelID: modelID) }
        sinks += outputs.sinks
        outputServices += outputs.services
        let hub = try AgentHub(profile: profile, sinks: sinks, logger: logger)
        outputs.attach(hub)

        var sourceServices: [SourceService] = []
        for s in config.sources {
            let pipes: [any SignalPipeline] = config.pipelines.filter { $0.source == s.name }.compactMap { p in
                switch p.kind {
                case .ecg: ECGPipeline(config: p, hub: hub, slot: slots[p.name], vitalsInterval: config.vitalsIntervalSeconds, logger: logger)
                case .ppg: PPGPipeline(config: p, hub: hub, vitalsInterval: config.vitalsIntervalSeconds, logger: logger)
                case .dicomFolder: nil
                }
            }
            guard !pipes.isEmpty else {
                logger.warning("source has no pipeline; not started", metadata: ["source": "\(s.name)"])
                continue
            }
            let make = try SignalSources.factory(for: s, logger: logger)
            sourceServices.append(SourceService(source: s, pipelines: pipes, logger: logger, makeStream: make))
        }

        var folderServices: [DicomFolderPipeline] = []
        for p in config.pipelines where p.kind == .dicomFolder {
            folderServices.append(try DicomFolderPipeline(config: p, hub: hub, slot: slots[p.name]!, logger: logger))
        }

        let notifier = SystemdNotifier()
        let ticker = TickerService(hub: hub, notifier: notifier, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = outputServices.map {
            .init(service: $0, successTerminationBehavior: .ignore, failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        services.append(.init(service: ticker, successTerminationBehavior: .ignore, failureTerminationBehavior: .gracefullyShutdownGroup))
        // Sources last: the group stops them first on shutdown, so outputs can flush what they sent.
        for f in folderServices {
            services.append(.init(service: f, successTerminationBehavior: .ignore, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        let finiteSources = folderServices.isEmpty && config.sources.allSatisfy { !($0.kind == .recording && $0.loop) }
        for s in sourceServices {
            services.append(.init(service: s, successTerminationBehavior: finiteSources ? .gracefullyShutdownGroup : .ignore,
                                  failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        var groupConfig = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfig.maximumGracefulShutdownDuration = .seconds(15)
        let group = ServiceGroup(configuration: groupConfig)

        let configReloader = ConfigurationReloader(running: config, load: reloadConfiguration, models: reloader, logger: logger)
        let reload = installReloadHandler(configReloader, notifier: notifier)
        defer { reload.cancel() }
        let timer: Task<Void, Never>? = duration.map { seconds in
            Task {
                try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                if !Task.isCancelled { await group.triggerGracefulShutdown() }
            }
        }
        defer { timer?.cancel() }
        notifier.ready(status: "running \(config.pipelines.count) pipeline(s)")
        logger.info("agent running", metadata: ["site": "\(config.device.site)", "device": "\(config.device.id)",
                                                "pipelines": "\(config.pipelines.map(\.name).joined(separator: ","))"])
        do {
            try await group.run()
        } catch {
            notifier.stopping()
            ticker.finish()
            throw error
        }
        notifier.stopping()
        ticker.finish()
        logger.info("agent stopped")
    }

    /// The configured alert profile plus one model alarm rule per configured model alarm.
    func alertProfile(_ config: AgentConfiguration, slots: [String: ModelSlot]) throws(AgentError) -> PatientProfile {
        var profile: PatientProfile = config.alertProfile == "adult-hypercapnic" ? .adultHypercapnic : .adult
        for p in config.pipelines {
            guard let model = slots[p.name]?.current else { continue }
            for a in p.alarms {
                guard let k = model.labels.firstIndex(of: a.label) else {
                    throw AgentError(.config, "\(config.origin): pipeline \(p.name): alarm label \"\(a.label)\" is not a label of \(model.path) (labels: \(model.labels.joined(separator: ", ")))")
                }
                let priority: AlarmPriority = switch a.priority { case .low: .low; case .medium: .medium; case .high: .high }
                profile.models.append(ModelAlarmRule(code: "\(p.name).\(a.label)", modelID: model.identity.id, classIndex: k,
                                                     label: a.label, threshold: a.threshold, consecutiveWindows: a.windows,
                                                     priority: priority, escalation: PatientProfile.defaultEscalation))
            }
        }
        do { try profile.validate() } catch { throw AgentError(.config, "\(config.origin): alarms: \(error)") }
        return profile
    }

    /// SIGHUP reloads the configuration and every pipeline's model (`ConfigurationReloader`).
    private func installReloadHandler(_ reloader: ConfigurationReloader, notifier: SystemdNotifier) -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            notifier.reloading()
            let outcome = reloader.reload()
            var status = outcome.configurationError == nil ? "reloaded" : "configuration reload failed, running the previous one"
            if !outcome.restartRequired.isEmpty { status += "; restart to apply \(outcome.restartRequired.joined(separator: ", "))" }
            if outcome.configurationError == nil, case .failed(_, let detail) = outcome.models { status += "; model reload failed: \(detail)" }
            notifier.ready(status: status)
        }
        source.resume()
        return source
    }
}

/// Loads each pipeline's model file again and swaps it in when it loads, verifies and keeps the
/// input size and the labels; otherwise keeps the running model and says why.
final class ModelReloader: @unchecked Sendable {  // `trustedKeys` and `paths` only under `lock`
    let slots: [String: ModelSlot]
    let logger: Logger
    private let lock = NSLock()
    private var trustedKeys: String?
    /// The path each slot loads from on its next reload (a configuration reload may change it).
    private var paths: [String: String]

    init(slots: [String: ModelSlot], trustedKeys: String?, logger: Logger) {
        self.slots = slots
        self.trustedKeys = trustedKeys
        self.logger = logger
        paths = slots.mapValues(\.path)
    }

    /// Makes the next reload read `paths` (pipeline name -> file) and verify against `trustedKeys`.
    func retarget(paths new: [String: String], trustedKeys keys: String??) {
        lock.withLock {
            for (name, path) in new where slots[name] != nil { paths[name] = path }
            if let keys { trustedKeys = keys }
        }
    }

    /// Reloads the models with `modelID` (all when nil).
    func reload(modelID: String?) -> CommandOutcome {
        // One reload at a time (SIGHUP and an MQTT reload command may meet).
        lock.lock()
        defer { lock.unlock() }
        var matched = 0
        var failures: [String] = []
        for (name, slot) in slots.sorted(by: { $0.key < $1.key }) where modelID == nil || slot.current.identity.id == modelID {
            matched += 1
            let path = paths[name] ?? slot.path
            do {
                // Same threads as the running model: a change of `threads` waits for a restart.
                let old = slot.current
                let new = try LoadedModel(path: path, trustedKeys: trustedKeys, threads: old.threads)
                guard new.inputCount == old.inputCount else {
                    throw AgentError(.model, "\(path): input of \(new.inputCount) values, the running model takes \(old.inputCount); restart the agent for that")
                }
                guard new.labels == old.labels else {
                    throw AgentError(.model, "\(path): labels \(new.labels.joined(separator: ",")) differ from the running model's \(old.labels.joined(separator: ",")) (alarm rules and subscribers read them); restart the agent for that")
                }
                slot.replace(with: new)
                logger.notice("model reloaded", metadata: ["pipeline": "\(name)", "path": "\(path)", "version": "\(new.identity.version)", "digest": "\(new.identity.digest ?? "")"])
            } catch {
                logger.error("reload failed; keeping the running model", metadata: ["pipeline": "\(name)", "path": "\(path)", "error": "\(error)"])
                failures.append("\(name): \(error)")
            }
        }
        if matched == 0 { return .failed(code: "unknown_model", detail: "no pipeline runs a model with id \(modelID ?? "-")") }
        return failures.isEmpty ? .accepted : .failed(code: "reload_failed", detail: failures.joined(separator: "; "))
    }
}

/// SIGHUP: reads the configuration again (through the same loader and command-line overrides as
/// at start), applies what can change live (`ReloadPlan`: model files and trusted keys), names
/// what waits for a restart, then reloads every model. A configuration that does not parse or
/// validate changes nothing (the models are not reloaded either).
final class ConfigurationReloader: @unchecked Sendable {  // `running` only under `lock`
    let load: (@Sendable () throws -> AgentConfiguration)?
    let models: ModelReloader
    let logger: Logger
    private let lock = NSLock()
    private var running: AgentConfiguration

    init(running: AgentConfiguration, load: (@Sendable () throws -> AgentConfiguration)?, models: ModelReloader, logger: Logger) {
        self.running = running
        self.load = load
        self.models = models
        self.logger = logger
    }

    /// What one reload did.
    struct Outcome: Sendable, Equatable {
        /// nil when the configuration was read and applied; otherwise why it was not.
        var configurationError: String?
        var restartRequired: [String] = []
        var models: CommandOutcome
    }

    /// The configuration the agent runs now (the start one plus what reloads applied).
    var current: AgentConfiguration { lock.withLock { running } }

    func reload() -> Outcome {
        lock.lock()
        defer { lock.unlock() }
        var configurationError: String?
        var restart: [String] = []
        if let load {
            do {
                let new = try load()
                let plan = running.reloadPlan(to: new)
                models.retarget(paths: plan.modelPaths, trustedKeys: plan.trustedKeys)
                running = running.applying(plan)
                restart = plan.restartRequired
                if !restart.isEmpty {
                    logger.warning("configuration changed where only a restart applies it; those settings keep their running values until then",
                                   metadata: ["keys": "\(restart.joined(separator: ", "))"])
                }
                logger.notice("configuration reloaded", metadata: [
                    "origin": "\(new.origin)", "model_paths_changed": "\(plan.modelPaths.count)",
                    "trusted_keys_changed": "\(plan.trustedKeys != nil)", "restart_required": "\(restart.count)",
                ])
            } catch {
                configurationError = "\(error)"
                logger.error("configuration reload failed; keeping the running configuration and models", metadata: ["error": "\(error)"])
                return Outcome(configurationError: configurationError, models: .failed(code: "config_invalid", detail: "\(error)"))
            }
        }
        let outcome = models.reload(modelID: nil)
        // A model that was refused keeps running from its old file: the running configuration and
        // the next reload (SIGHUP or `cmd/reload`) say so, and the next SIGHUP tries the new path again.
        for i in running.pipelines.indices where running.pipelines[i].model != nil {
            if let slot = models.slots[running.pipelines[i].name] { running.pipelines[i].model = slot.path }
        }
        models.retarget(paths: models.slots.mapValues(\.path), trustedKeys: nil)
        return Outcome(configurationError: configurationError, restartRequired: restart, models: outcome)
    }
}

/// Creates the state directory 0700 (and tightens an existing one).
func prepareStateDirectory(_ path: String) throws(AgentError) {
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
    } catch {
        throw AgentError(.state, "state directory \(path): \(error.localizedDescription)")
    }
}

/// Fires the alarm engine's timers every 250 ms, pings the systemd watchdog, refreshes the status line.
final class TickerService: Service, Sendable {
    let hub: AgentHub
    let notifier: SystemdNotifier
    let status = StatusLine()
    let logger: Logger
    let started = ContinuousClock.now

    init(hub: AgentHub, notifier: SystemdNotifier, logger: Logger) {
        self.hub = hub
        self.notifier = notifier
        self.logger = logger
    }

    func run() async throws {
        var lastPing = ContinuousClock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            await hub.tick()
            if let every = notifier.watchdogInterval, ContinuousClock.now - lastPing >= every {
                notifier.watchdog()
                lastPing = ContinuousClock.now
            }
            if status.enabled {
                let line = StatusLine.render(vitals: await hub.vitals, prediction: await hub.lastPrediction,
                                             alarms: await hub.activeAlarms, news2: await hub.lastNEWS2,
                                             uptime: Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000)
                status.show(line)
            }
        }
    }

    func finish() { status.finish() }
}
