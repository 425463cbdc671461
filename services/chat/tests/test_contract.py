"""The chat contract as the sheet gives it (chat sheet §2): methods in order, with DeleteChat
where upstream's head declares it, and the field numbers clients are built against."""

from __future__ import annotations

from agynio.api.chat.v1 import chat_pb2


def numbers(message: str) -> dict[str, int]:
    return {field.name: field.number for field in chat_pb2.DESCRIPTOR.message_types_by_name[message].fields}


def test_the_methods_in_the_contracts_order():
    service = chat_pb2.DESCRIPTOR.services_by_name["ChatService"]
    assert [method.name for method in service.methods] == [
        "CreateChat",
        "GetChats",
        "UpdateChat",
        "DeleteChat",
        "GetMessages",
        "SendMessage",
        "MarkAsRead",
    ]


def test_the_field_numbers():
    assert numbers("Chat") == {
        "id": 1,
        "participants": 2,
        "created_at": 3,
        "updated_at": 4,
        "organization_id": 5,
        "status": 6,
        "summary": 7,
        "activity_status": 8,
        "unread_count": 9,
        "active_workload_ids": 10,
    }
    assert numbers("ChatParticipant") == {"id": 1, "joined_at": 2}
    assert numbers("ChatMessage") == {
        "id": 1,
        "chat_id": 2,
        "sender_id": 3,
        "body": 4,
        "file_ids": 5,
        "created_at": 6,
    }
    assert numbers("CreateChatRequest") == {"participant_ids": 1, "organization_id": 2}
    assert numbers("GetChatsRequest") == {"page_size": 1, "page_token": 2, "organization_id": 3, "status": 4}
    assert numbers("UpdateChatRequest") == {"chat_id": 1, "status": 2, "summary": 3}
    assert numbers("GetMessagesResponse") == {"messages": 1, "next_page_token": 2, "unread_count": 3}
    assert numbers("MarkAsReadRequest") == {"chat_id": 1, "message_ids": 2}
    assert numbers("DeleteChatRequest") == {"chat_id": 1}
    assert numbers("DeleteChatResponse") == {}
    # Presence is explicit on the two summaries only.
    optional = {
        (message.name, field.name)
        for message in chat_pb2.DESCRIPTOR.message_types_by_name.values()
        for field in message.fields
        if field.has_presence and field.message_type is None
    }
    assert optional == {("Chat", "summary"), ("UpdateChatRequest", "summary")}
    assert dict(chat_pb2.ChatStatus.items()) == {
        "CHAT_STATUS_UNSPECIFIED": 0,
        "CHAT_STATUS_OPEN": 1,
        "CHAT_STATUS_CLOSED": 2,
    }
    assert dict(chat_pb2.ChatActivityStatus.items()) == {
        "CHAT_ACTIVITY_STATUS_UNSPECIFIED": 0,
        "CHAT_ACTIVITY_STATUS_RUNNING": 1,
        "CHAT_ACTIVITY_STATUS_PENDING": 2,
        "CHAT_ACTIVITY_STATUS_FINISHED": 3,
    }
