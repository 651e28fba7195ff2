// swift-tools-version: 6.1
import PackageDescription

// The int8 core (VigilModel, VigilRuntime) is Foundation-free and also compiles as Embedded Swift
// (see Tools/embedded/). Host-only concerns (mmap, NPY, JSON metadata) live in VigilIO.
let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        .library(name: "VigilRuntime", targets: ["VigilRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(name: "CVigilKernels"),
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto",
                       providers: [.apt(["libmosquitto-dev"])]),
        .target(name: "VigilModel"),
        .target(
            name: "VigilRuntime",
            dependencies: ["VigilModel", "CVigilKernels"],
            swiftSettings: [.define("VIGIL_OPENBLAS")]
        ),
        // MCU <-> host frame codec; Foundation-free and Embedded-Swift-compatible, shared with Firmware/.
        .target(name: "SensorLink"),
        .target(name: "VigilAlerts"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // Sources (files, SensorLink serial), streaming DSP, vitals, signal quality.
        .target(name: "VigilSensors", dependencies: ["SensorLink"]),
        // DICOM Part 10 reader and the image pipeline into a model's input tensor.
        .target(name: "VigilImaging", dependencies: ["CZlib"]),
        // The only importer of CMosquitto.
        .target(name: "VigilMQTT", dependencies: ["CMosquitto", .product(name: "Logging", package: "swift-log")]),
        // Durable SQLite outbox, FHIR R4 mapping, uploader.
        .target(
            name: "VigilSync",
            dependencies: [
                "CSQLite",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Sensor-bridge firmware logic: drivers behind a hardware-abstraction protocol, scheduler,
        // ring buffers. Built here for the host (tests, sensor-sim) and by Firmware/SensorBridge/build.sh
        // as Embedded Swift for the Cortex-M4F board.
        .target(name: "SensorBridgeCore", dependencies: ["SensorLink"], path: "Firmware/SensorBridge/Sources/SensorBridgeCore"),
        .executableTarget(
            name: "sensor-sim",
            dependencies: ["SensorBridgeCore", "SensorLink", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tools/sensor-sim"
        ),
        // Test drivers: a publisher for the schema/broker checks and an outbox writer for the kill tests.
        .executableTarget(
            name: "vigil-mqtt-probe",
            dependencies: ["VigilMQTT", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tools/mqtt-probe"
        ),
        .executableTarget(
            name: "vigil-sync-probe",
            dependencies: ["VigilSync", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tools/sync-probe"
        ),
        // The bedside agent: configuration, pipelines, services.
        .target(
            name: "VigilAgent",
            dependencies: [
                "VigilModel", "VigilRuntime", "VigilIO", "VigilSensors", "VigilAlerts", "SensorLink", "VigilMQTT", "VigilSync", "VigilImaging",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(name: "VigilIO", dependencies: ["VigilModel", .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(
            name: "vigil",
            dependencies: [
                "VigilModel", "VigilRuntime", "VigilIO", "CVigilKernels", "VigilAlerts",
                "VigilSensors", "VigilImaging", "VigilAgent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Release: link with lld and pack the relative relocations (DT_RELR, glibc >= 2.36: Debian 12,
            // Raspberry Pi OS bookworm). The loader otherwise reads ~1.4 MB of .rela.dyn at every start
            // and that stays in the agent's resident memory (docs/PERFORMANCE.md, agent memory).
            linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"],
                                          .when(platforms: [.linux], configuration: .release))]
        ),
        // Workstation-side converter: ONNX in, .vigil out. Kept out of the device binary (protobuf).
        .target(
            name: "VigilConvert",
            dependencies: [
                "VigilModel", "VigilRuntime", "VigilIO",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "vigil-convert",
            dependencies: ["VigilConvert", "VigilIO", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tools/vigil-convert"
        ),
        .executableTarget(
            name: "vigil-demo-model",
            dependencies: ["VigilModel", "VigilRuntime", "VigilIO"],
            path: "Tools/demo-model"
        ),
        .executableTarget(
            name: "vigil-alloc-probe",
            dependencies: ["VigilRuntime", "VigilModel"],
            path: "Tools/alloc-probe"
        ),
        .testTarget(name: "VigilModelTests", dependencies: ["VigilModel", "VigilIO", "VigilRuntime"]),
        .testTarget(name: "VigilRuntimeTests", dependencies: ["VigilRuntime", "VigilModel", "VigilIO", "CVigilKernels"]),
        .testTarget(name: "VigilIOTests", dependencies: ["VigilIO"]),
        .testTarget(name: "SensorLinkTests", dependencies: ["SensorLink"]),
        .testTarget(name: "VigilAlertsTests", dependencies: ["VigilAlerts"]),
        .testTarget(name: "VigilSensorsTests", dependencies: ["VigilSensors", "SensorLink", "SensorBridgeCore"]),
        .testTarget(name: "VigilImagingTests", dependencies: ["VigilImaging"]),
        .testTarget(name: "VigilMQTTTests", dependencies: ["VigilMQTT"]),
        .testTarget(name: "VigilSyncTests", dependencies: ["VigilSync"]),
        .testTarget(name: "SensorBridgeTests", dependencies: ["SensorBridgeCore", "SensorLink"]),
        .testTarget(name: "VigilAgentTests", dependencies: ["VigilAgent"]),
        .testTarget(name: "VigilCLITests", dependencies: ["VigilIO", "vigil"]),
        .testTarget(name: "VigilConvertTests", dependencies: ["VigilConvert", "VigilModel", "VigilRuntime"]),
    ],
    swiftLanguageModes: [.v6]
)
