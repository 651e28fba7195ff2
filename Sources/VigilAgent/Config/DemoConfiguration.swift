import Foundation

extension AgentConfiguration {
    /// The built-in demo as YAML: the MIT-BIH record 208 excerpt replayed at real time into the
    /// `ecg-rhythm` example model and the R-peak heart rate, published to a local broker. It is
    /// also the reference example of the configuration format (docs/AGENT.md).
    public static func demoYAML(root: String) -> String {
        """
        # Vigil demo: a real ECG (MIT-BIH 208 excerpt, 360 Hz) replayed at real time.
        device:
          site: demo
          id: bed-1
          patient: Patient/demo-0001
        sources:
          - name: ecg
            kind: recording
            path: \(root)/Models/ecg-rhythm/data/mitbih-208-excerpt.npy
            rate: 360
            speed: realtime
            loop: true
        pipelines:
          - name: ecg-rhythm
            kind: ecg
            source: ecg
            model: \(root)/Models/ecg-rhythm/model.vigil
            window: 720
            hop: 180
            normalize: mean
            waveform: true
            alarms:
              - label: tachy
                threshold: 0.9
                windows: 8
                priority: medium
        mqtt:
          broker: mqtt://127.0.0.1:1883
          vitals_expiry: 60s
        alerts:
          profile: adult
        vitals_interval: 1s
        """
    }

    /// The demo configuration, with its files found under `root` (see `locateDemoRoot`).
    public static func demo(root: String) throws(ConfigError) -> AgentConfiguration {
        try parse(demoYAML(root: root), file: "<demo>")
    }

    /// Where the demo's model and recording live: `$VIGIL_DEMO_ROOT`, else the nearest folder above
    /// the executable (a source checkout: `.build/release/vigil`) holding `Models/ecg-rhythm`, else
    /// the installed share directories.
    public static func locateDemoRoot(executable: String = CommandLine.arguments[0]) -> String? {
        let fm = FileManager.default
        let marker = "Models/ecg-rhythm/model.vigil"
        if let env = ProcessInfo.processInfo.environment["VIGIL_DEMO_ROOT"], fm.fileExists(atPath: "\(env)/\(marker)") { return env }
        var dir = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            if fm.fileExists(atPath: dir.appendingPathComponent(marker).path) { return dir.path }
            dir.deleteLastPathComponent()
        }
        for share in ["/usr/local/share/vigil", "/usr/share/vigil"] where fm.fileExists(atPath: "\(share)/\(marker)") { return share }
        if fm.fileExists(atPath: "\(fm.currentDirectoryPath)/\(marker)") { return fm.currentDirectoryPath }
        return nil
    }
}
