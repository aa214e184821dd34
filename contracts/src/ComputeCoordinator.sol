// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @notice What the coordinator asks of the registry: the attestation's EIP-712 digest, signer
/// recovery and the worker list (`VerificationRegistry`).
interface IAttestations {
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

    function signingHash(Attestation calldata a) external view returns (bytes32);
    function recoverSigner(bytes32 digest, bytes calldata signature) external pure returns (address);
    function workers(address worker)
        external
        view
        returns (bool active, bytes32 configHash, uint64 registeredAt, bool selfSigned);
}

/// @notice A contract that asked for compute gets the result here.
interface IComputeConsumer {
    function receiveCompute(uint256 requestId, uint32 interval, bytes calldata output, bytes32 attestationHash)
        external;
}

/// @title ComputeCoordinator
/// @notice On-chain compute requests (issue 14, document 001's `pending.onchain`). A consumer
/// contract asks once (`requestCompute`) or on a schedule (`createSubscription`: `frequency`
/// runs, one every `period` seconds), paying in ETH up front. The node (a Notary coordinator)
/// runs the container named by `containersHash` on `input` and delivers each interval with
/// `deliverCompute`: the attestation must be of this input (`inputHash = sha256(input)`) and
/// this container (`expectedHash = containersHash`, Notary's chain link of a one-container
/// chain: `sha256("notary-chain:v1" ‖ module hash)`), the output must hash to its
/// `outputHash`, the fuel must be within `maxFuel`, and at least `redundancy` distinct
/// registered workers must have signed it (checked here through the registry). Each (request,
/// interval) is delivered once. The consumer's `receiveCompute` is
/// called with bounded gas; if it reverts the delivery still counts and the node is still paid
/// (`ComputeDelivered.accepted` says so), so a broken consumer blocks nobody.
contract ComputeCoordinator {
    struct Request {
        address consumer;
        bytes32 containersHash;
        bytes32 inputHash;
        uint64 maxFuel;
        uint16 redundancy;
        uint32 frequency;
        uint32 period;
        uint64 createdAt;
        uint32 delivered;
        uint256 paymentPerInterval;
    }

    /// @notice Gas the consumer's callback gets.
    uint256 public constant CALLBACK_GAS = 500_000;

    IAttestations public immutable registry;
    /// @notice The only account that delivers (and is paid).
    address public immutable node;
    uint256 public requestCount;
    /// @notice Payments of delivered intervals, not withdrawn yet.
    uint256 public earned;
    mapping(uint256 => Request) public requests;
    mapping(uint256 => mapping(uint32 => bool)) public delivered;

    event ComputeRequested(
        uint256 indexed requestId,
        address indexed consumer,
        bytes32 containersHash,
        bytes input,
        uint64 maxFuel,
        uint16 redundancy,
        uint32 frequency,
        uint32 period,
        uint256 paymentPerInterval
    );
    event ComputeDelivered(
        uint256 indexed requestId, uint32 indexed interval, bytes32 attestationHash, bytes output, bool accepted
    );
    event Withdrawn(address indexed to, uint256 amount);

    error NotNode();
    error UnknownRequest(uint256 requestId);
    error BadSchedule();
    error BadPayment(uint256 value, uint32 frequency);
    error NoSuchInterval(uint32 interval, uint32 frequency);
    error NotDue(uint64 dueAt);
    error AlreadyDelivered(uint256 requestId, uint32 interval);
    error OutputMismatch();
    error NotThisJob();
    error FuelAboveMax(uint64 fuelUsed, uint64 maxFuel);
    error NotEnoughSigners(uint256 valid, uint16 redundancy);
    error TransferFailed();

    constructor(address registry_, address node_) {
        registry = IAttestations(registry_);
        node = node_;
    }

    /// @notice One run of `containersHash` on `input`, paid with `msg.value`.
    function requestCompute(bytes32 containersHash, bytes calldata input, uint64 maxFuel, uint16 redundancy)
        external
        payable
        returns (uint256)
    {
        return _open(containersHash, input, maxFuel, redundancy, 1, 0);
    }

    /// @notice `frequency` runs, one every `period` seconds from now; `msg.value` pays them all
    /// in equal parts.
    function createSubscription(
        bytes32 containersHash,
        bytes calldata input,
        uint64 maxFuel,
        uint16 redundancy,
        uint32 frequency,
        uint32 period
    ) external payable returns (uint256) {
        if (frequency > 1 && period == 0) revert BadSchedule();
        return _open(containersHash, input, maxFuel, redundancy, frequency, period);
    }

    function _open(
        bytes32 containersHash,
        bytes calldata input,
        uint64 maxFuel,
        uint16 redundancy,
        uint32 frequency,
        uint32 period
    ) private returns (uint256 id) {
        if (frequency == 0 || redundancy == 0 || maxFuel == 0) revert BadSchedule();
        if (msg.value % frequency != 0) revert BadPayment(msg.value, frequency);
        id = ++requestCount;
        requests[id] = Request({
            consumer: msg.sender,
            containersHash: containersHash,
            inputHash: sha256(input),
            maxFuel: maxFuel,
            redundancy: redundancy,
            frequency: frequency,
            period: period,
            createdAt: uint64(block.timestamp),
            delivered: 0,
            paymentPerInterval: msg.value / frequency
        });
        emit ComputeRequested(
            id, msg.sender, containersHash, input, maxFuel, redundancy, frequency, period, msg.value / frequency
        );
    }

    /// @notice When `interval` of `requestId` may be delivered (unix seconds).
    function dueAt(uint256 requestId, uint32 interval) public view returns (uint64) {
        Request storage r = requests[requestId];
        return r.createdAt + uint64(interval) * r.period;
    }

    /// @notice Delivers one interval's result (see the contract notes for what is checked).
    function deliverCompute(
        uint256 requestId,
        uint32 interval,
        bytes calldata output,
        IAttestations.Attestation calldata attestation,
        bytes[] calldata signatures
    ) external {
        if (msg.sender != node) revert NotNode();
        Request storage r = requests[requestId];
        if (r.consumer == address(0)) revert UnknownRequest(requestId);
        if (interval >= r.frequency) revert NoSuchInterval(interval, r.frequency);
        uint64 due = dueAt(requestId, interval);
        if (block.timestamp < due) revert NotDue(due);
        if (delivered[requestId][interval]) revert AlreadyDelivered(requestId, interval);
        if (attestation.inputHash != r.inputHash || attestation.expectedHash != r.containersHash) {
            revert NotThisJob();
        }
        if (attestation.outputHash != sha256(output)) revert OutputMismatch();
        if (attestation.fuelUsed > r.maxFuel) revert FuelAboveMax(attestation.fuelUsed, r.maxFuel);
        bytes32 digest = registry.signingHash(attestation);
        _checkSigners(digest, signatures, r.redundancy);
        delivered[requestId][interval] = true;
        r.delivered += 1;
        earned += r.paymentPerInterval;
        bool accepted;
        try IComputeConsumer(r.consumer).receiveCompute{gas: CALLBACK_GAS}(requestId, interval, output, digest) {
            accepted = true;
        } catch {
            accepted = false;
        }
        emit ComputeDelivered(requestId, interval, digest, output, accepted);
    }

    function _checkSigners(bytes32 digest, bytes[] calldata signatures, uint16 redundancy) private view {
        address[] memory seen = new address[](signatures.length);
        uint256 valid;
        for (uint256 i = 0; i < signatures.length; i++) {
            address signer = registry.recoverSigner(digest, signatures[i]);
            (bool active,,,) = registry.workers(signer);
            if (!active) continue;
            bool duplicate;
            for (uint256 j = 0; j < valid; j++) {
                if (seen[j] == signer) duplicate = true;
            }
            if (duplicate) continue;
            seen[valid++] = signer;
        }
        if (valid < redundancy) revert NotEnoughSigners(valid, redundancy);
    }

    /// @notice The node takes what it earned.
    function withdraw(address payable to) external {
        if (msg.sender != node) revert NotNode();
        uint256 amount = earned;
        earned = 0;
        emit Withdrawn(to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }
}

/// @title SampleConsumer
/// @notice The consumer contract of the tests and the README: asks for compute, keeps what it
/// received, and can be told to revert (a broken consumer must not block deliveries).
contract SampleConsumer is IComputeConsumer {
    address public immutable coordinator;
    bool public broken;
    uint256 public received;
    mapping(uint256 => mapping(uint32 => bytes)) public outputs;
    mapping(uint256 => mapping(uint32 => bytes32)) public attestations;

    error OnlyCoordinator();
    error Broken();

    constructor(address coordinator_) {
        coordinator = coordinator_;
    }

    function setBroken(bool broken_) external {
        broken = broken_;
    }

    function ask(bytes32 containersHash, bytes calldata input, uint64 maxFuel, uint16 redundancy)
        external
        payable
        returns (uint256)
    {
        return ComputeCoordinator(coordinator).requestCompute{value: msg.value}(
            containersHash, input, maxFuel, redundancy
        );
    }

    function subscribe(
        bytes32 containersHash,
        bytes calldata input,
        uint64 maxFuel,
        uint16 redundancy,
        uint32 frequency,
        uint32 period
    ) external payable returns (uint256) {
        return ComputeCoordinator(coordinator).createSubscription{value: msg.value}(
            containersHash, input, maxFuel, redundancy, frequency, period
        );
    }

    function receiveCompute(uint256 requestId, uint32 interval, bytes calldata output, bytes32 attestationHash)
        external
    {
        if (msg.sender != coordinator) revert OnlyCoordinator();
        if (broken) revert Broken();
        outputs[requestId][interval] = output;
        attestations[requestId][interval] = attestationHash;
        received += 1;
    }
}
