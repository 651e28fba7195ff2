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
    ],
    targets: [
        .target(name: "CVigilKernels"),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto",
                       providers: [.apt(["libmosquitto-dev"])]),
        .target(name: "VigilModel"),
        .target(
            name: "VigilRuntime",
            dependencies: ["VigilModel", "CVigilKernels", "COpenBLAS"],
            swiftSettings: [.define("VIGIL_OPENBLAS")]
        ),
        // MCU <-> host frame codec; Foundation-free and Embedded-Swift-compatible, shared with Firmware/.
        .target(name: "SensorLink"),
        .target(name: "VigilAlerts"),
        .target(name: "VigilIO", dependencies: ["VigilModel", .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(
            name: "vigil",
            dependencies: [
                "VigilModel", "VigilRuntime", "VigilIO", "CVigilKernels", "VigilAlerts",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
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
        .testTarget(name: "VigilCLITests", dependencies: ["VigilIO", "vigil"]),
    ],
    swiftLanguageModes: [.v6]
)
