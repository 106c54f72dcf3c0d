// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Retort",
    products: [
        .library(name: "WeightFiles", targets: ["WeightFiles"]),
        .library(name: "Network", targets: ["Network"]),
        .library(name: "Distillation", targets: ["Distillation"]),
        .library(name: "Fidelity", targets: ["Fidelity"]),
        .executable(name: "retort", targets: ["retort"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // libdeflate decodes the .stz chunks' deflate streams and computes CRC-32 several
        // times faster than zlib (scripts/bench_stz.py); zlib still does the encoding,
        // for its Huffman-only strategy, and the gzip/zlib/zip streams.
        .systemLibrary(
            name: "CLibDeflate",
            pkgConfig: "libdeflate",
            providers: [.apt(["libdeflate-dev"])]
        ),
        // C kernels compiled for specific CPU features by function attributes and chosen
        // at run time, so the package needs no unsafe flags.
        .target(name: "CRetortKernels"),
        .target(
            name: "WeightFiles",
            dependencies: ["CZlib", "CLibDeflate", "CRetortKernels"]
        ),
        .target(
            name: "Network",
            dependencies: ["WeightFiles", "CRetortKernels"]
        ),
        .target(
            name: "Distillation",
            dependencies: ["Network", "WeightFiles"]
        ),
        .target(
            name: "Fidelity",
            dependencies: ["Distillation", "Network", "WeightFiles"]
        ),
        .executableTarget(
            name: "retort",
            dependencies: [
                "WeightFiles",
                "Network",
                "Distillation",
                "Fidelity",
                "CRetortKernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "WeightFilesTests",
            dependencies: ["WeightFiles"]
        ),
        // Peer benchmarks drive this in-process harness (scripts/bench_network.py).
        .executableTarget(
            name: "retort-bench",
            dependencies: ["WeightFiles", "Network", "Distillation", "CRetortKernels"]
        ),
        .testTarget(
            name: "NetworkTests",
            dependencies: ["Network", "WeightFiles"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "DistillationTests",
            dependencies: ["Distillation", "Network", "WeightFiles"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "FidelityTests",
            dependencies: ["Fidelity", "Distillation", "Network", "WeightFiles"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "RetortCLITests",
            dependencies: ["WeightFiles", "retort"]
        ),
    ]
)
