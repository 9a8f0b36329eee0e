from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.criteria.helpers import Units


@pytest.fixture
def units(session: AsyncSession) -> Units:
    return Units(session)


@pytest.fixture
async def place(units: Units) -> dict[str, uuid.UUID]:
    """Two synthetic provinces (TDMNPB and DBSH) with districts and communes."""
    north = await units.add("province", "T91", "Tỉnh Thử Bắc", type_="tinh")
    delta = await units.add("province", "T92", "Tỉnh Thử Đồng", type_="tinh")
    coast = await units.add("province", "T93", "Tỉnh Thử Biển", type_="tinh")
    await units.classify(north, "ntm_region", "TDMNPB")
    await units.classify(delta, "ntm_region", "DBSH")
    await units.classify(coast, "ntm_region", "DBSCL")
    north_district = await units.add("district", "T911", "Huyện Thử", north, type_="huyen")
    delta_district = await units.add("district", "T921", "Huyện Đồng", delta, type_="huyen")
    coast_district = await units.add("district", "T931", "Huyện Biển", coast, type_="huyen")
    out = {
        "north": north,
        "delta": delta,
        "north_commune": await units.add("commune", "T9111", "Xã Núi", north_district),
        "delta_commune": await units.add("commune", "T9211", "Xã Đồng", delta_district),
        "difficult_commune": await units.add("commune", "T9212", "Xã Khó", delta_district),
        "coast_commune": await units.add("commune", "T9311", "Xã Biển", coast_district),
        "district": delta_district,
    }
    await units.classify(out["difficult_commune"], "especially_difficult", "true")
    await units.commit()
    return out
