import Foundation
import Logging
import ServiceLifecycle
import VigilAlerts
import VigilSync

/// Everything that must reach the hospital record goes into the durable outbox first (SQLite in
/// the state directory: alerts written with fsync, never evicted for telemetry); the uploader, when
/// a cloud URL is configured, sends it as FHIR R4 transaction Bundles and deletes only what the
/// server accepted. Without a cloud URL the outbox still records (byte cap and TTL bound it), so a
/// board configured later uploads its backlog.
final class OutboxSink: AgentSink, Service, Sendable {
    let store: OutboxStore
    let uploader: FHIRUploader?
    let logger: Logger
    /// Writes run here, in order, off the hub: the hub (and the MQTT alarm path behind it) never
    /// waits for SQLite, an fsync of an alert, or an upload batch holding the outbox lock.
    private let writes = DispatchQueue(label: "vigil.outbox.writes")

    init(config: AgentConfiguration, logger: Logger) throws(AgentError) {
        let subject = FHIRSubject(patientReference: config.device.patient, deviceReference: "Device/vigil-\(config.device.site)-\(config.device.id)")
        do {
            store = try OutboxStore(directory: URL(fileURLWithPath: config.stateDir).appendingPathComponent("outbox"),
                                    byteCap: config.cloud.outboxBytes, ttl: 7 * 24 * 3600, subject: subject, logger: logger)
        } catch {
            throw AgentError(.state, "outbox in \(config.stateDir): \(error)")
        }
        if let url = config.cloud.url {
            guard let base = URL(string: url) else { throw AgentError(.config, "cloud.url \(url) is not a URL") }
            let sync = SyncConfiguration(baseURL: base, bearerTokenFile: config.cloud.tokenFile, clientCert: config.cloud.certFile,
                                         clientKey: config.cloud.keyFile, caFile: config.cloud.caFile, batchSize: config.cloud.batchSize)
            do { uploader = try FHIRUploader(store: store, configuration: sync, logger: logger) } catch {
                throw AgentError(.config, "\(config.origin): cloud: \(error)")
            }
        } else {
            uploader = nil
        }
        self.logger = logger
    }

    /// Uploads until shutdown, then drains for up to 5 s; what is left stays in the outbox.
    func run() async throws {
        guard let uploader else {
            try? await gracefulShutdown()
            await writesDone()
            return
        }
        await cancelWhenGracefulShutdownIgnoringResult { try? await uploader.run() }
        await writesDone()
        let left = await uploader.drain(timeout: 5)
        let progress = (try? uploader.progress).map { "\($0)" } ?? "unknown"
        logger.info("outbox drained", metadata: ["pending": "\(left)", "progress": "\(progress)"])
    }

    private func put(_ item: OutboxItem) {
        writes.async { [store, logger] in
            do { _ = try store.enqueue(item) } catch {
                logger.error("outbox write failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Returns once every write queued so far is in the outbox (before the final drain).
    func writesDone() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in writes.async { done.resume() } }
    }

    func vital(_ reading: VitalReading) async {
        guard let v = reading.value else { return }
        let m: VitalMeasurement? = switch reading.vital {
        case .heartRate: .heartRate(v)
        case .respirationRate: .respiratoryRate(v)
        case .spo2: .oxygenSaturation(v)
        case .temperature: .bodyTemperature(v)
        case .systolicBP: nil  // a systolic value alone is not a BP panel; numeric frames carry both
        }
        if let m { put(.vital(m, time: reading.time, note: "source \(reading.source)")) }
    }

    func prediction(_ record: PredictionRecord) async {
        guard let label = record.label else { return }
        let model = VigilSync.ModelIdentity(id: record.model.id, version: record.model.version, digest: record.model.digest ?? "")
        put(.prediction(ModelPrediction(model: model, label: label,
                                        scores: zip(record.labels, record.scores).map { ClassScore(label: $0, score: Double($1)) },
                                        time: record.windowEnd)))
    }

    func alarms(_ events: [AlarmEvent], active: [AlarmSnapshot], clock: EngineClock) async {
        for e in events {
            let priority: VigilSync.AlarmPriority = switch e.priority { case .low: .low; case .medium: .medium; case .high: .high }
            put(.alert(AlertEvent(alarmID: "\(e.alarmID)", condition: "\(e.condition)", priority: priority, state: e.state.rawValue,
                                  message: e.message, time: clock.date(e.time),
                                  model: e.model.map { VigilSync.ModelIdentity(id: $0.id, version: $0.version, digest: $0.digest ?? "") })))
        }
    }

    func waveform(pipeline: String, block: SampleBlock, start: Date) async {}
}
