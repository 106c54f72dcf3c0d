/// A global a pickle may name (GLOBAL / STACK_GLOBAL): one of the allowlist modelled on
/// PyTorch's `weights_only` unpickler (`torch/_weights_only_unpickler.py`, `_get_allowed_globals`).
///
/// A global is only ever a name: nothing is imported or called. `PickleMachine` applies the
/// few it understands symbolically (REDUCE builds a value); every name off the list is refused
/// the moment the opcode naming it is read.
public struct PickleGlobal: Sendable, Hashable, CustomStringConvertible {
    /// What the name stands for.
    public enum Kind: Sendable, Hashable {
        case orderedDict, counter, set, bytearray, complex, codecsEncode
        case size, device, layoutGetter, tensorClass, parameterClass
        /// `torch.float32`, …
        case dtype(TorchDType)
        /// `torch.FloatStorage`, …, or `torch.UntypedStorage` (`TorchDType.untypedBytes`).
        case storageClass(TorchDType)
        /// `torch.storage.TypedStorage`: allowlisted by torch, never written by `torch.save`.
        case typedStorageClass
        case rebuildTensor, rebuildTensorV2, rebuildTensorV3, rebuildParameter, rebuildParameterWithState
        case rebuildFromTypeV2
        /// A name torch allows that Retort does not read (quantized, sparse, meta or subclass tensors,
        /// legacy tensor classes, quantization schemes): using it is `pytorchInvalid` naming it.
        case unsupported
    }

    /// The module, e.g. `torch._utils`.
    public let module: String
    /// The name inside the module, e.g. `_rebuild_tensor_v2`.
    public let name: String
    public let kind: Kind

    /// `module.name`.
    public var description: String { "\(module).\(name)" }

    /// The allowlisted global `module.name`, after Python 2 module names are mapped to Python 3
    /// (`__builtin__` → `builtins`, `copy_reg` → `copyreg`, as pickle's `fix_imports` does), or `nil`.
    static func lookup(module rawModule: String, name: String) -> PickleGlobal? {
        let module =
            switch rawModule {
            case "__builtin__": "builtins"
            case "copy_reg": "copyreg"
            default: rawModule
            }
        guard let kind = allowlist["\(module).\(name)"] else { return nil }
        return PickleGlobal(module: module, name: name, kind: kind)
    }

    /// The module name after the Python 2 → 3 mapping (for messages).
    static func mappedName(module: String, name: String) -> String {
        (module == "__builtin__" ? "builtins" : module == "copy_reg" ? "copyreg" : module) + "." + name
    }

    static let allowlist: [String: Kind] = {
        var list: [String: Kind] = [
            "collections.OrderedDict": .orderedDict,
            "collections.Counter": .counter,
            "torch.nn.parameter.Parameter": .parameterClass,
            "torch.serialization._get_layout": .layoutGetter,
            "torch.Size": .size,
            "torch.Tensor": .tensorClass,
            "torch.device": .device,
            "_codecs.encode": .codecsEncode,
            "builtins.bytearray": .bytearray,
            "builtins.set": .set,
            "builtins.complex": .complex,
            "torch.UntypedStorage": .storageClass(TorchDType.untypedBytes),
            "torch.storage.UntypedStorage": .storageClass(TorchDType.untypedBytes),
            "torch.storage.TypedStorage": .typedStorageClass,
            "torch._utils._rebuild_tensor": .rebuildTensor,
            "torch._utils._rebuild_tensor_v2": .rebuildTensorV2,
            "torch._utils._rebuild_tensor_v3": .rebuildTensorV3,
            "torch._utils._rebuild_parameter": .rebuildParameter,
            "torch._utils._rebuild_parameter_with_state": .rebuildParameterWithState,
            "torch._tensor._rebuild_from_type_v2": .rebuildFromTypeV2,
        ]
        for unsupported in [
            "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor",
            "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_wrapper_subclass",
            "torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_device_tensor_from_cpu_tensor",
            "torch.per_tensor_affine", "torch.per_tensor_symmetric", "torch.per_channel_affine",
            "torch.per_channel_symmetric", "torch.per_channel_affine_float_qparams",
        ] {
            list[unsupported] = .unsupported
        }
        for type in TorchDType.all {
            list["torch.\(type.name)"] = .dtype(type)
            if let storage = type.storageClass { list["torch.\(storage)"] = .storageClass(type) }
        }
        // torch._tensor_classes: the legacy tensor types (torch.FloatTensor, torch.cuda.HalfTensor, …).
        let tensorTypes = [
            "Double", "Float", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool",
            "ComplexFloat", "ComplexDouble",
        ]
        for type in tensorTypes {
            for module in ["torch", "torch.cuda", "torch.sparse", "torch.cuda.sparse"] {
                list["\(module).\(type)Tensor"] = .unsupported
            }
        }
        return list
    }()
}
