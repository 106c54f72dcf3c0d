// swift-tools-version: 6.0
// Coverage-guided fuzz targets for every weight-file reader (libFuzzer, through swiftc's
// -sanitize=fuzzer). A package of its own so that the main package's ordinary builds never
// see a libFuzzer entry point. Build and run with scripts/fuzz.sh.
import PackageDescription

let readers = ["safetensors", "sharded", "npz", "stz", "gguf", "pytorch", "pickle"]
let descriptions = ["network", "task", "surrogate", "intervention", "tokenizer", "probes", "shard"]

let package = Package(
    name: "RetortFuzz",
    dependencies: [.package(name: "Retort", path: "..")],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "WeightFiles", package: "Retort")],
            path: "Sources/FuzzSupport")
    ]
        + readers.map { name in
            .executableTarget(
                name: "fuzz-\(name)",
                dependencies: ["FuzzSupport", .product(name: "WeightFiles", package: "Retort")],
                path: "Sources/fuzz-\(name)")
        }
        + descriptions.map { name in
            .executableTarget(
                name: "fuzz-\(name)",
                dependencies: [
                    "FuzzSupport", .product(name: "WeightFiles", package: "Retort"),
                    .product(name: "Network", package: "Retort"), .product(name: "Distillation", package: "Retort"),
                    .product(name: "Fidelity", package: "Retort"),
                ],
                path: "Sources/fuzz-\(name)")
        }
)
