// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title VerificationRegistry
/// @notice Notary's on-chain record of verification results. Workers are registered with the hash
/// of their sandbox configuration; a result is recorded only with EIP-712 signatures of at least
/// `quorum` distinct registered workers over the same attestation, checked here with `ecrecover`,
/// so anyone can trust a record without trusting the coordinator that wrote it. Record ids are
/// derived from the content (the attestation's EIP-712 struct hash). Records are never deleted:
/// the owner can only revoke them, with a reason, and the revocation is itself an event.
contract VerificationRegistry {
    /// @notice The attestation a worker signs, exactly as `notary-protocol` declares it.
    struct Attestation {
        bytes32 jobId;
        bytes32 codeHash;
        bytes32 inputHash;
        bytes32 outputHash;
        bytes32 expectedHash;
        uint64 fuelUsed;
        uint8 result;
        bytes32 runtimeId;
    }

    /// @notice A registered worker. `selfSigned`: registered with the worker's own EIP-712
    /// signature (`registerWorkerSigned`, the open fleet), not on the owner's word alone.
    struct Worker {
        bool active;
        bytes32 configHash;
        uint64 registeredAt;
        bool selfSigned;
    }

    /// @notice A recorded result.
    struct Record {
        Attestation attestation;
        address[] signers;
        uint64 recordedAt;
        bool revoked;
    }

    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(bytes32 jobId,bytes32 codeHash,bytes32 inputHash,bytes32 outputHash,bytes32 expectedHash,uint64 fuelUsed,uint8 result,bytes32 runtimeId)"
    );
    bytes32 public constant REGISTRATION_TYPEHASH =
        keccak256("WorkerRegistration(address worker,bytes32 configHash,uint64 deadline)");
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @dev secp256k1n / 2: signatures with a higher s are malleable copies (EIP-2).
    uint256 private constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    address public owner;
    /// @notice Distinct registered worker signatures a record needs (M of the N registered).
    uint8 public quorum;
    uint256 public workerCount;
    uint256 public recordCount;
    mapping(address => Worker) public workers;
    mapping(bytes32 => Record) private records;
    /// @notice The record of each job id (zero when none).
    mapping(bytes32 => bytes32) public recordOfJob;
    /// @notice The deadline of the last signed registration accepted per worker: a signed
    /// registration must carry a later one, so an old signature cannot be replayed.
    mapping(address => uint64) public registrationDeadline;

    event WorkerRegistered(address indexed worker, bytes32 indexed configHash);
    event WorkerDeregistered(address indexed worker);
    event QuorumChanged(uint8 quorum);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event ResultRecorded(bytes32 indexed recordId, bytes32 indexed jobId, address indexed firstSigner, uint8 result);
    event RecordRevoked(bytes32 indexed recordId, string reason);

    error NotOwner();
    error UnknownRecord(bytes32 recordId);
    error AlreadyRecorded(bytes32 recordId);
    error JobAlreadyRecorded(bytes32 jobId);
    error QuorumNotMet(uint256 valid, uint8 quorum);
    error BadSignature(uint256 index);
    error NotRegistered(address signer);
    error DuplicateSigner(address signer);
    error BadQuorum(uint8 quorum);
    error LengthMismatch();
    error RegistrationExpired(uint64 deadline);
    error StaleRegistration(uint64 deadline, uint64 lastDeadline);
    error NotWorkerSignature(address recovered, address worker);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    constructor() {
        owner = msg.sender;
        quorum = 1;
        emit OwnershipTransferred(address(0), msg.sender);
        emit QuorumChanged(1);
    }

    /// @notice The contract's interface version.
    function version() external pure returns (string memory) {
        return "1.1.0";
    }

    /// @notice The EIP-712 domain separator: {name "Notary", version "1", chainId, this contract}.
    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("Notary"), keccak256("1"), block.chainid, address(this))
        );
    }

    /// @notice The EIP-712 struct hash of an attestation: also its record id.
    function hashAttestation(Attestation calldata a) public pure returns (bytes32) {
        return keccak256(
            abi.encode(
                ATTESTATION_TYPEHASH,
                a.jobId,
                a.codeHash,
                a.inputHash,
                a.outputHash,
                a.expectedHash,
                a.fuelUsed,
                a.result,
                a.runtimeId
            )
        );
    }

    /// @notice The digest a worker signs.
    function signingHash(Attestation calldata a) public view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", DOMAIN_SEPARATOR(), hashAttestation(a)));
    }

    /// @notice Recovers the signer of a 65-byte `r || s || v` signature; zero when malformed.
    function recoverSigner(bytes32 digest, bytes calldata signature) public pure returns (address) {
        if (signature.length != 65) return address(0);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        if (v != 27 && v != 28) return address(0);
        if (uint256(s) > HALF_ORDER) return address(0);
        return ecrecover(digest, v, r, s);
    }

    /// @notice Registers a worker on the owner's word (an operator-run fleet's allow list).
    function registerWorker(address worker, bytes32 configHash) external onlyOwner {
        _register(worker, configHash, false);
    }

    /// @notice The EIP-712 digest a worker signs to be registered with `configHash`.
    function registrationHash(address worker, bytes32 configHash, uint64 deadline) public view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(REGISTRATION_TYPEHASH, worker, configHash, deadline));
        return keccak256(abi.encodePacked("\x19\x01", DOMAIN_SEPARATOR(), structHash));
    }

    /// @notice Registers (or re-registers with a new config hash) a worker that signed its own
    /// registration: a signature by any other key is refused, so the owner cannot register a
    /// key it does not hold. `deadline` must not have passed and must be later than the last
    /// one accepted for this worker.
    function registerWorkerSigned(address worker, bytes32 configHash, uint64 deadline, bytes calldata signature)
        external
        onlyOwner
    {
        if (block.timestamp > deadline) revert RegistrationExpired(deadline);
        uint64 last = registrationDeadline[worker];
        if (deadline <= last) revert StaleRegistration(deadline, last);
        address signer = recoverSigner(registrationHash(worker, configHash, deadline), signature);
        if (signer != worker || signer == address(0)) revert NotWorkerSignature(signer, worker);
        registrationDeadline[worker] = deadline;
        _register(worker, configHash, true);
    }

    function _register(address worker, bytes32 configHash, bool selfSigned) private {
        Worker storage w = workers[worker];
        if (!w.active) workerCount += 1;
        w.active = true;
        w.configHash = configHash;
        w.registeredAt = uint64(block.timestamp);
        w.selfSigned = selfSigned;
        emit WorkerRegistered(worker, configHash);
    }

    function deregisterWorker(address worker) external onlyOwner {
        if (workers[worker].active) {
            workers[worker].active = false;
            workerCount -= 1;
            emit WorkerDeregistered(worker);
        }
    }

    function setQuorum(uint8 newQuorum) external onlyOwner {
        if (newQuorum == 0) revert BadQuorum(newQuorum);
        quorum = newQuorum;
        emit QuorumChanged(newQuorum);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Records one result; returns its content-derived id.
    function recordResult(Attestation calldata a, bytes[] calldata signatures) public returns (bytes32 recordId) {
        recordId = hashAttestation(a);
        if (records[recordId].recordedAt != 0) revert AlreadyRecorded(recordId);
        if (recordOfJob[a.jobId] != bytes32(0)) revert JobAlreadyRecorded(a.jobId);
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", DOMAIN_SEPARATOR(), recordId));
        address[] memory signers = new address[](signatures.length);
        for (uint256 i = 0; i < signatures.length; i++) {
            address signer = recoverSigner(digest, signatures[i]);
            if (signer == address(0)) revert BadSignature(i);
            if (!workers[signer].active) revert NotRegistered(signer);
            for (uint256 j = 0; j < i; j++) {
                if (signers[j] == signer) revert DuplicateSigner(signer);
            }
            signers[i] = signer;
        }
        if (signatures.length < quorum) revert QuorumNotMet(signatures.length, quorum);
        Record storage rec = records[recordId];
        rec.attestation = a;
        rec.signers = signers;
        rec.recordedAt = uint64(block.timestamp);
        recordOfJob[a.jobId] = recordId;
        recordCount += 1;
        emit ResultRecorded(recordId, a.jobId, signers.length > 0 ? signers[0] : address(0), a.result);
    }

    /// @notice Records many results in one transaction (all or nothing).
    function recordBatch(Attestation[] calldata attestations, bytes[][] calldata signatures)
        external
        returns (bytes32[] memory recordIds)
    {
        if (attestations.length != signatures.length) revert LengthMismatch();
        recordIds = new bytes32[](attestations.length);
        for (uint256 i = 0; i < attestations.length; i++) {
            recordIds[i] = recordResult(attestations[i], signatures[i]);
        }
    }

    /// @notice Marks a record revoked. It stays readable: records are never deleted.
    function revoke(bytes32 recordId, string calldata reason) external onlyOwner {
        Record storage rec = records[recordId];
        if (rec.recordedAt == 0) revert UnknownRecord(recordId);
        rec.revoked = true;
        emit RecordRevoked(recordId, reason);
    }

    /// @notice A record by id.
    function getRecord(bytes32 recordId)
        external
        view
        returns (Attestation memory attestation, address[] memory signers, uint64 recordedAt, bool revoked)
    {
        Record storage rec = records[recordId];
        if (rec.recordedAt == 0) revert UnknownRecord(recordId);
        return (rec.attestation, rec.signers, rec.recordedAt, rec.revoked);
    }
}
