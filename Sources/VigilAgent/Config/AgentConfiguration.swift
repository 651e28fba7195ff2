import Foundation

/// Everything `vigil run` needs: who the device is, where signals come from, what runs on them,
/// and where results go. Read from YAML (`AgentConfiguration.load(path:)`), or the built-in demo
/// (`AgentConfiguration.demo(root:)`); command-line flags then override single fields.
///
/// docs/AGENT.md documents every key with an example.
public struct AgentConfiguration: Sendable, Equatable {
    /// Identity on the wire. Topic names carry `site` and `id` only; `patient` is a configured
    /// pseudonymous FHIR reference, never a name or MRN.
    public struct Device: Sendable, Equatable {
        public var site: String
        public var id: String
        public var patient: String
    }

    public enum SourceKind: String, Sendable, CaseIterable {
        /// A recorded waveform file (NPY) replayed at real time or as fast as possible.
        case recording
        /// The sensor bridge on a serial line (SensorLink frames).
        case serial
        /// SensorLink frames over TCP (the simulator's `--tcp` mode, or a serial-to-TCP bridge).
        case tcp
    }

    public enum Speed: String, Sendable, CaseIterable { case realtime, max }

    /// A signal source.
    public struct Source: Sendable, Equatable {
        public var name: String
        public var kind: SourceKind
        /// recording: the file; serial: the tty; tcp: `host:port`.
        public var path: String
        /// recording: samples per second (required; NPY carries none).
        public var rate: Double?
        /// recording: replay speed; loop at the end.
        public var speed: Speed
        public var loop: Bool
        /// serial: baud rate.
        public var baud: Int
    }

    public enum PipelineKind: String, Sendable, CaseIterable {
        /// ECG: R-peak heart rate (vital) and, when `model` is set, windows into the model.
        case ecg
        /// PPG from a pulse oximeter (red and infrared channels): SpO2 and pulse rate.
        case ppg
        /// DICOM hot folder into an imaging model.
        case dicomFolder = "dicom-folder"
    }

    /// Per-window normalization before the model (on top of the metadata's scale/offset/mean/std).
    public enum Normalize: String, Sendable, CaseIterable {
        case none
        /// Subtract the window's mean (the ecg-rhythm model's only preprocessing).
        case mean
        /// Subtract the mean and divide by the standard deviation.
        case zscore
    }

    public enum Priority: String, Sendable, CaseIterable { case low, medium, high }

    /// "Alarm when class `label` has probability >= `threshold` for `windows` windows in a row."
    public struct ModelAlarm: Sendable, Equatable {
        public var label: String
        public var threshold: Double
        public var windows: Int
        public var priority: Priority
    }

    /// A chain source -> preprocessing -> model -> labels/thresholds -> alerts -> outputs.
    public struct Pipeline: Sendable, Equatable {
        public var name: String
        public var kind: PipelineKind
        /// ecg: the source name; dicom-folder: unused.
        public var source: String?
        /// ecg: the source's channel (SensorLink channel name, e.g. `ecg`); recordings have one.
        public var channel: String?
        /// dicom-folder: the watched folder.
        public var folder: String?
        /// The `.vigil` model, optional for ecg (vitals only).
        public var model: String?
        /// Window length and hop in samples at the model's rate; defaults from the model's metadata.
        public var window: Int?
        public var hop: Int?
        public var normalize: Normalize
        /// Whether to publish waveform batches for live display (QoS 0).
        public var publishWaveform: Bool
        public var alarms: [ModelAlarm]
        /// Intra-op threads of the pipeline's model (convolution, depthwise and fully connected
        /// kernels split their output; results identical to one thread). Default 1: the bedside
        /// board shares its cores with the rest of the agent, and small models get slower with more.
        public var threads: Int = 1
    }

    public struct MQTT: Sendable, Equatable {
        /// `mqtt://host:port` or `mqtts://host:port`; nil disables MQTT.
        public var broker: String?
        public var username: String?
        /// Secrets come from files (or the environment), never from the config or the command line.
        public var passwordFile: String?
        public var caFile: String?
        public var certFile: String?
        public var keyFile: String?
        /// Lifetime of retained vitals (MQTT 5 message expiry).
        public var vitalsExpirySeconds: Int
    }

    public struct Cloud: Sendable, Equatable {
        /// FHIR R4 base URL; nil keeps results in the outbox only.
        public var url: String?
        public var tokenFile: String?
        public var certFile: String?
        public var keyFile: String?
        public var caFile: String?
        public var batchSize: Int
        /// Outbox byte cap.
        public var outboxBytes: Int
    }

    public var device: Device
    public var sources: [Source]
    public var pipelines: [Pipeline]
    public var mqtt: MQTT
    public var cloud: Cloud
    /// Outbox and runtime state; created 0700.
    public var stateDir: String
    /// When set, models must carry a signature by one of the `*.pub` keys in this directory.
    public var trustedKeys: String?
    /// Vitals are scored and limit-checked with this profile (`adult` or `adult-hypercapnic`).
    public var alertProfile: String
    /// Seconds between vitals publications.
    public var vitalsIntervalSeconds: Double

    /// The file this came from, for messages.
    public var origin: String
}

extension AgentConfiguration {
    static let topKeys = ["device", "sources", "pipelines", "mqtt", "cloud", "state_dir", "trusted_keys", "alerts", "vitals_interval"]

    /// Reads and validates a YAML configuration file.
    public static func load(path: String) throws(ConfigError) -> AgentConfiguration {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(file: path, key: "", value: nil, expected: "a readable UTF-8 file (\(error.localizedDescription))")
        }
        return try parse(text, file: path)
    }

    /// Parses and validates YAML text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> AgentConfiguration {
        let root = try ConfigNode.parse(text, file: file)
        try root.mapping(allowed: topKeys)

        let d = root["device"]
        try d.mapping(allowed: ["site", "id", "patient"])
        let device = Device(site: try identifier(d["site"]), id: try identifier(d["id"]),
                            patient: try d["patient"].string("a pseudonymous FHIR reference like Patient/pseudo-0001"))

        var sources: [Source] = []
        for s in try root["sources"].list() {
            try s.mapping(allowed: ["name", "kind", "path", "rate", "speed", "loop", "baud"])
            let kind = try s["kind"].choice(SourceKind.self)
            let src = Source(
                name: try identifier(s["name"]), kind: kind,
                path: try s["path"].string(kind == .tcp ? "host:port" : "a file path"),
                rate: try s["rate"].optionalDouble(in: 1...100_000, "samples per second"),
                speed: try s["speed"].optionalChoice(Speed.self) ?? .realtime,
                loop: try s["loop"].optionalBool() ?? false,
                baud: try s["baud"].optionalInt(in: 1200...4_000_000, "baud") ?? 921_600)
            if kind == .tcp, parseHostPort(src.path) == nil { throw s["path"].error("host:port") }
            // WFDB and EDF headers and a CSV time column carry the rate; a NumPy array does not.
            if kind == .recording, src.rate == nil, src.path.lowercased().hasSuffix(".npy") {
                throw s["rate"].error("samples per second (an .npy recording carries no rate)")
            }
            guard !sources.contains(where: { $0.name == src.name }) else { throw s["name"].error("a name no other source has") }
            sources.append(src)
        }

        var pipelines: [Pipeline] = []
        for p in try root["pipelines"].list() {
            try p.mapping(allowed: ["name", "kind", "source", "channel", "folder", "model", "window", "hop", "normalize", "waveform", "alarms", "threads"])
            let kind = try p["kind"].choice(PipelineKind.self)
            var alarms: [ModelAlarm] = []
            for a in try p["alarms"].list() {
                try a.mapping(allowed: ["label", "threshold", "windows", "priority"])
                alarms.append(ModelAlarm(label: try a["label"].string("a label of the model"),
                                         threshold: try a["threshold"].double(in: 0...1, "class probability"),
                                         windows: try a["windows"].optionalInt(in: 1...1000, "consecutive windows") ?? 1,
                                         priority: try a["priority"].optionalChoice(Priority.self) ?? .medium))
            }
            let pipe = Pipeline(
                name: try identifier(p["name"]), kind: kind,
                source: try p["source"].optionalString("the name of a source"),
                channel: try p["channel"].optionalString("a channel name"),
                folder: try p["folder"].optionalString("a folder path"),
                model: try p["model"].optionalString("a .vigil model path"),
                window: try p["window"].optionalInt(in: 1...10_000_000, "samples"),
                hop: try p["hop"].optionalInt(in: 1...10_000_000, "samples"),
                normalize: try p["normalize"].optionalChoice(Normalize.self) ?? .none,
                publishWaveform: try p["waveform"].optionalBool() ?? false,
                alarms: alarms,
                threads: try p["threads"].optionalInt(in: 1...64, "intra-op threads of the model") ?? 1)
            switch kind {
            case .ecg, .ppg:
                if kind == .ppg, pipe.model != nil { throw p["model"].error("no model: ppg pipelines compute SpO2 and pulse rate") }
                guard let name = pipe.source else { throw p["source"].error("the name of a source (one of: \(sources.map(\.name).joined(separator: ", ")))") }
                guard sources.contains(where: { $0.name == name }) else {
                    throw p["source"].error("the name of a source (one of: \(sources.map(\.name).joined(separator: ", ")))")
                }
            case .dicomFolder:
                guard pipe.folder != nil else { throw p["folder"].error("the folder to watch") }
                guard pipe.model != nil else { throw p["model"].error("the imaging model (.vigil)") }
            }
            if !alarms.isEmpty, pipe.model == nil { throw p["alarms"].error("no alarms without a model") }
            if pipe.threads != 1, pipe.model == nil { throw p["threads"].error("no threads without a model") }
            guard !pipelines.contains(where: { $0.name == pipe.name }) else { throw p["name"].error("a name no other pipeline has") }
            pipelines.append(pipe)
        }
        guard !pipelines.isEmpty else { throw root["pipelines"].error("at least one pipeline") }

        let m = root["mqtt"]
        if m.isPresent { try m.mapping(allowed: ["broker", "username", "password_file", "ca_file", "cert_file", "key_file", "vitals_expiry"]) }
        let mqtt = MQTT(broker: try m["broker"].optionalString("mqtt://host:port or mqtts://host:port"),
                        username: try m["username"].optionalString(), passwordFile: try m["password_file"].optionalString(),
                        caFile: try m["ca_file"].optionalString(), certFile: try m["cert_file"].optionalString(),
                        keyFile: try m["key_file"].optionalString(),
                        vitalsExpirySeconds: Int(try m["vitals_expiry"].optionalSeconds(in: 1...86_400, "retained vitals lifetime") ?? 60))
        if let b = mqtt.broker, parseBrokerURL(b) == nil { throw m["broker"].error("mqtt://host:port or mqtts://host:port") }

        let c = root["cloud"]
        if c.isPresent { try c.mapping(allowed: ["url", "token_file", "cert_file", "key_file", "ca_file", "batch_size", "outbox_bytes"]) }
        let cloud = Cloud(url: try c["url"].optionalString("an https:// or http:// FHIR base URL"),
                          tokenFile: try c["token_file"].optionalString(), certFile: try c["cert_file"].optionalString(),
                          keyFile: try c["key_file"].optionalString(), caFile: try c["ca_file"].optionalString(),
                          batchSize: try c["batch_size"].optionalInt(in: 1...1000, "entries per Bundle") ?? 50,
                          outboxBytes: try c["outbox_bytes"].optionalInt(in: 65_536...(1 << 40), "bytes") ?? 64 << 20)
        if let u = cloud.url, !(u.hasPrefix("http://") || u.hasPrefix("https://")) || URL(string: u)?.host == nil {
            throw c["url"].error("an https:// or http:// FHIR base URL")
        }

        let a = root["alerts"]
        if a.isPresent { try a.mapping(allowed: ["profile"]) }
        let profile = try a["profile"].optionalString("adult or adult-hypercapnic") ?? "adult"
        guard ["adult", "adult-hypercapnic"].contains(profile) else { throw a["profile"].error("adult or adult-hypercapnic") }

        return AgentConfiguration(
            device: device, sources: sources, pipelines: pipelines, mqtt: mqtt, cloud: cloud,
            stateDir: try root["state_dir"].optionalString("a directory") ?? defaultStateDir(),
            trustedKeys: try root["trusted_keys"].optionalString("a directory of *.pub keys"),
            alertProfile: profile,
            vitalsIntervalSeconds: try root["vitals_interval"].optionalSeconds(in: 0.1...3600, "vitals publication interval") ?? 1,
            origin: file)
    }

    /// Site, device and other names go into MQTT topics and file names: a conservative alphabet.
    private static func identifier(_ n: ConfigNode) throws(ConfigError) -> String {
        let expected = "1-64 characters from A-Z a-z 0-9 - _ ."
        let s = try n.string(expected)
        guard (1...64).contains(s.count), s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw n.error(expected)
        }
        return s
    }

    static func defaultStateDir() -> String {
        if let xdg = ProcessInfo.processInfo.environment["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/vigil" }
        return NSHomeDirectory() + "/.local/state/vigil"
    }
}

/// `host:port` with a port in 1...65535.
func parseHostPort(_ s: String) -> (host: String, port: Int)? {
    guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (1...65535).contains(port) else { return nil }
    let host = String(s[..<colon])
    return host.isEmpty ? nil : (host, port)
}

/// `mqtt://host[:port]` (default 1883) or `mqtts://host[:port]` (default 8883).
func parseBrokerURL(_ s: String) -> (tls: Bool, host: String, port: Int)? {
    for (scheme, tls, port) in [("mqtt://", false, 1883), ("mqtts://", true, 8883)] where s.hasPrefix(scheme) {
        let rest = String(s.dropFirst(scheme.count)).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        if let hp = parseHostPort(rest) { return (tls, hp.host, hp.port) }
        if !rest.isEmpty, !rest.contains(":") { return (tls, rest, port) }
        return nil
    }
    return nil
}

extension AgentConfiguration {
    /// Applies command-line overrides, validated like the file's values.
    public mutating func override(broker: String?, cloudURL: String?, stateDir: String?) throws(ConfigError) {
        if let broker {
            guard parseBrokerURL(broker) != nil else {
                throw ConfigError(file: "<flags>", key: "--broker", value: broker, expected: "mqtt://host:port or mqtts://host:port")
            }
            mqtt.broker = broker
        }
        if let cloudURL {
            guard cloudURL.hasPrefix("http://") || cloudURL.hasPrefix("https://"), URL(string: cloudURL)?.host != nil else {
                throw ConfigError(file: "<flags>", key: "--cloud-url", value: cloudURL, expected: "an https:// or http:// FHIR base URL")
            }
            cloud.url = cloudURL
        }
        if let stateDir {
            guard !stateDir.isEmpty else { throw ConfigError(file: "<flags>", key: "--state-dir", value: stateDir, expected: "a directory") }
            self.stateDir = stateDir
        }
    }

    /// The configuration as understood, for `vigil run --check-config` (no secrets: only file paths).
    public var summary: String {
        var lines = ["configuration \(origin): OK",
                     "device: site \(device.site), id \(device.id), patient \(device.patient)"]
        for s in sources {
            var d = "source \(s.name): \(s.kind.rawValue) \(s.path)"
            if let r = s.rate { d += " at \(r) Hz" }
            if s.kind == .recording { d += ", \(s.speed.rawValue)\(s.loop ? ", looping" : "")" }
            if s.kind == .serial { d += ", \(s.baud) baud" }
            lines.append(d)
        }
        for p in pipelines {
            var d = "pipeline \(p.name): \(p.kind.rawValue)"
            if let s = p.source { d += " from \(s)" }
            if let f = p.folder { d += " watching \(f)" }
            if let m = p.model { d += ", model \(m)" }
            if let w = p.window { d += ", window \(w)/hop \(p.hop ?? w), normalize \(p.normalize.rawValue)" }
            for a in p.alarms { d += "; alarm \(a.label) >= \(a.threshold) for \(a.windows) windows (\(a.priority.rawValue))" }
            lines.append(d)
        }
        lines.append("mqtt: \(mqtt.broker ?? "off")\(mqtt.username.map { ", user \($0)" } ?? "")\(mqtt.passwordFile.map { ", password from \($0)" } ?? "")\(mqtt.caFile.map { ", CA \($0)" } ?? "")")
        lines.append("cloud: \(cloud.url ?? "off (outbox only)")\(cloud.tokenFile.map { ", token from \($0)" } ?? "")")
        lines.append("state: \(stateDir); alerts profile \(alertProfile); models \(trustedKeys.map { "must be signed by keys in \($0)" } ?? "need no signature")")
        return lines.joined(separator: "\n")
    }
}
