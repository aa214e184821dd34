// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @notice The EIP-3009 token functions the escrow uses (USDC's, and the test token's).
interface IEIP3009Token {
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;
}

/// @notice The registry's record lookup (`VerificationRegistry.recordOfJob`).
interface IRecords {
    function recordOfJob(bytes32 jobId) external view returns (bytes32);
}

/// @title NotaryEscrow
/// @notice Holds a marketplace job's payment until its jury has decided (issue 13). A requester
/// funds a prepared job (`prepareId` is the job id as the registry keys it: the UUID in the first
/// 16 bytes), with `fund` after an ERC-20 approval or in one signature with EIP-3009
/// `receiveWithAuthorization`, whose nonce must be the `prepareId` (so nobody can move a
/// requester's authorization to another job). The coordinator then either releases the whole
/// deposit to the workers that were right (only once the registry holds the job's record; an
/// escalated jury's extra seats topped up from the coordinator's own balance) or refunds it; if it does neither within `reclaimAfter` seconds of the funding, the requester
/// takes the deposit back, so a dead operator cannot keep the money. Each deposit ends exactly
/// once; every state change is an event.
contract NotaryEscrow {
    enum State {
        None,
        Funded,
        Released,
        Refunded,
        Reclaimed
    }

    struct Deposit {
        address payer;
        uint256 amount;
        uint64 fundedAt;
        State state;
    }

    IEIP3009Token public immutable token;
    IRecords public immutable registry;
    /// @notice The only account that releases or refunds.
    address public immutable coordinator;
    /// @notice Seconds after the funding from which the payer may reclaim an unsettled deposit.
    uint64 public immutable reclaimAfter;
    mapping(bytes32 => Deposit) public deposits;

    event Funded(bytes32 indexed prepareId, address indexed payer, uint256 amount);
    event Released(bytes32 indexed prepareId, address[] recipients, uint256[] amounts);
    /// @notice The coordinator added `amount` of its own to a release (escalation seats).
    event ToppedUp(bytes32 indexed prepareId, address indexed coordinator, uint256 amount);
    event Refunded(bytes32 indexed prepareId, address indexed payer, uint256 amount);
    event Reclaimed(bytes32 indexed prepareId, address indexed payer, uint256 amount);

    error NotCoordinator();
    error NotPayer();
    error ZeroAmount();
    error AlreadyFunded(bytes32 prepareId);
    error NotFunded(bytes32 prepareId);
    error NotRecorded(bytes32 prepareId);
    error NonceNotPrepareId(bytes32 nonce, bytes32 prepareId);
    error LengthMismatch();
    error AmountMismatch(uint256 total, uint256 deposit);
    error TooEarly(uint64 reclaimableAt);
    error TransferFailed();

    modifier onlyCoordinator() {
        if (msg.sender != coordinator) revert NotCoordinator();
        _;
    }

    constructor(IEIP3009Token token_, IRecords registry_, uint64 reclaimAfter_) {
        token = token_;
        registry = registry_;
        coordinator = msg.sender;
        reclaimAfter = reclaimAfter_;
    }

    /// @notice Funds `prepareId` with `amount` from the caller (after `approve`).
    function fund(bytes32 prepareId, uint256 amount) external {
        _open(prepareId, msg.sender, amount);
        if (!token.transferFrom(msg.sender, address(this), amount)) revert TransferFailed();
    }

    /// @notice Funds `prepareId` with the payer's EIP-3009 `ReceiveWithAuthorization` (to this
    /// contract, nonce = `prepareId`): one signature, no approval; anyone may submit it.
    function fundWithAuthorization(
        bytes32 prepareId,
        address from,
        uint256 amount,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        if (nonce != prepareId) revert NonceNotPrepareId(nonce, prepareId);
        _open(prepareId, from, amount);
        token.receiveWithAuthorization(from, address(this), amount, validAfter, validBefore, nonce, v, r, s);
    }

    /// @notice Pays the deposit out, all of it, once the registry holds the job's record. The
    /// amounts may add up to more than the deposit: the coordinator pays the difference from its
    /// own balance (an escalated jury's extra seats come out of the operator's fee, never from
    /// the requester), pulled with `transferFrom` after its approval.
    function release(bytes32 prepareId, address[] calldata recipients, uint256[] calldata amounts)
        external
        onlyCoordinator
    {
        Deposit storage d = _funded(prepareId);
        if (registry.recordOfJob(prepareId) == bytes32(0)) revert NotRecorded(prepareId);
        if (recipients.length != amounts.length) revert LengthMismatch();
        uint256 total = 0;
        for (uint256 i = 0; i < amounts.length; i++) {
            total += amounts[i];
        }
        if (total < d.amount) revert AmountMismatch(total, d.amount);
        d.state = State.Released;
        emit Released(prepareId, recipients, amounts);
        if (total > d.amount) {
            emit ToppedUp(prepareId, msg.sender, total - d.amount);
            if (!token.transferFrom(msg.sender, address(this), total - d.amount)) revert TransferFailed();
        }
        for (uint256 i = 0; i < recipients.length; i++) {
            if (amounts[i] > 0 && !token.transfer(recipients[i], amounts[i])) revert TransferFailed();
        }
    }

    /// @notice Returns the deposit to its payer (a refund-eligible outcome).
    function refund(bytes32 prepareId) external onlyCoordinator {
        Deposit storage d = _funded(prepareId);
        d.state = State.Refunded;
        emit Refunded(prepareId, d.payer, d.amount);
        if (!token.transfer(d.payer, d.amount)) revert TransferFailed();
    }

    /// @notice The payer takes back a deposit nobody settled within `reclaimAfter`.
    function reclaim(bytes32 prepareId) external {
        Deposit storage d = _funded(prepareId);
        if (msg.sender != d.payer) revert NotPayer();
        uint64 reclaimableAt = d.fundedAt + reclaimAfter;
        if (block.timestamp < reclaimableAt) revert TooEarly(reclaimableAt);
        d.state = State.Reclaimed;
        emit Reclaimed(prepareId, d.payer, d.amount);
        if (!token.transfer(d.payer, d.amount)) revert TransferFailed();
    }

    function _open(bytes32 prepareId, address payer, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        Deposit storage d = deposits[prepareId];
        if (d.state != State.None) revert AlreadyFunded(prepareId);
        d.payer = payer;
        d.amount = amount;
        d.fundedAt = uint64(block.timestamp);
        d.state = State.Funded;
        emit Funded(prepareId, payer, amount);
    }

    function _funded(bytes32 prepareId) private view returns (Deposit storage d) {
        d = deposits[prepareId];
        if (d.state != State.Funded) revert NotFunded(prepareId);
    }
}
